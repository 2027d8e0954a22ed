package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hearsay/internal/node"

	"golang.org/x/sys/unix"
)

// The reachability tests run real nodes in network namespaces that they
// make, wire with veth pairs and bridges, and remove when they end: a lab
// of hosts and routers on this machine, linked to nothing outside it (no
// interface in it reaches the machine's own namespace), so no packet of
// theirs can leave. They need root; CI runs as root, and without it they
// fail, not skip.
//
// The lab's "Internet" is 192.0.0.64/26: part of the IETF protocol
// assignments block (192.0.0.0/24), which is never routed on the Internet,
// yet which go-libp2p counts as public (its list of unroutable ranges has
// only 192.0.0.0/26). go-libp2p does AutoNAT, relay reservations and hole
// punching only for public addresses, so the lab's public side needs such
// addresses; behind the routers, the LANs use 10.0.0.0/8 as homes do.

// labSeq numbers the labs of one test process; with its pid, their names
// are unique on the machine.
var labSeq atomic.Int32

// lab is a set of network namespaces one test made.
type lab struct {
	t      *testing.T
	prefix string
}

// needRoot fails a test that needs root: the namespaces it makes do.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test makes network namespaces and needs root (CI runs as root): run it as root")
	}
	needProgram(t, "ip")
	needProgram(t, "iptables")
}

// newLab starts an empty lab; its namespaces go when the test ends, after
// the processes in them (cleanups run last first).
func newLab(t *testing.T) *lab {
	t.Helper()
	needRoot(t)
	l := &lab{t: t, prefix: fmt.Sprintf("hs%d-%d-", os.Getpid(), labSeq.Add(1))}
	removeNamespaces(func(name string) bool { // a killed test run's
		var pid int
		_, err := fmt.Sscanf(name, "hs%d-", &pid)
		return err == nil && pid != os.Getpid() && unix.Kill(pid, 0) == unix.ESRCH
	})
	t.Cleanup(func() { removeNamespaces(func(name string) bool { return strings.HasPrefix(name, l.prefix) }) })
	return l
}

// removeNamespaces deletes the network namespaces whose names match.
func removeNamespaces(match func(string) bool) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		if name != "" && match(name) {
			exec.Command("ip", "netns", "del", name).Run()
		}
	}
}

// run runs a command, failing the test if it fails.
func (l *lab) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// in runs a command inside namespace ns.
func (l *lab) in(ns string, args ...string) {
	l.t.Helper()
	l.run(append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// host makes a namespace with its loopback up, and returns its name.
func (l *lab) host(name string) string {
	l.t.Helper()
	ns := l.prefix + name
	l.run("ip", "netns", "add", ns)
	l.in(ns, "ip", "link", "set", "lo", "up")
	return ns
}

// link joins namespaces a and b with a veth pair, interface ifA (address
// addrA, CIDR) in a and ifB in b; an empty address leaves it unnumbered
// (a bridge port).
func (l *lab) link(a, ifA, addrA, b, ifB, addrB string) {
	l.t.Helper()
	l.run("ip", "-n", a, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b)
	for _, e := range []struct{ ns, ifc, addr string }{{a, ifA, addrA}, {b, ifB, addrB}} {
		if e.addr != "" {
			l.run("ip", "-n", e.ns, "addr", "add", e.addr, "dev", e.ifc)
		}
		l.run("ip", "-n", e.ns, "link", "set", e.ifc, "up")
	}
}

// bridge makes a bridge in ns, with an address (CIDR; "" none), and
// returns a function that attaches an interface of ns to it.
func (l *lab) bridge(ns, name, addr string) func(ifc string) {
	l.t.Helper()
	l.run("ip", "-n", ns, "link", "add", name, "type", "bridge")
	if addr != "" {
		l.run("ip", "-n", ns, "addr", "add", addr, "dev", name)
	}
	l.run("ip", "-n", ns, "link", "set", name, "up")
	return func(ifc string) {
		l.t.Helper()
		l.run("ip", "-n", ns, "link", "set", ifc, "master", name)
	}
}

// router makes ns a home router: it forwards from its LAN to its WAN
// interface, masquerading as its WAN address (keeping each host's port
// where it can; symmetric: a random port for every connection), and, like
// a home router's firewall, drops what arrives on the WAN for itself
// unasked. Dropping (not refusing) matters for hole punching: a packet the
// router answered would leave a conntrack entry that makes it pick another
// port for the peer's own outgoing packets.
func (l *lab) router(ns, wan string, symmetric bool) {
	l.t.Helper()
	l.in(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	masquerade := []string{"iptables", "-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE"}
	if symmetric {
		masquerade = append(masquerade, "--random-fully")
	}
	l.in(ns, masquerade...)
	l.in(ns, "iptables", "-A", "INPUT", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
	l.in(ns, "iptables", "-A", "INPUT", "-i", wan, "-j", "DROP")
}

// command is exe (this test binary as hearsay) with args, inside ns.
func (l *lab) command(ns string, args ...string) *exec.Cmd {
	exe, _ := os.Executable()
	return exec.Command("ip", append([]string{"netns", "exec", ns, exe}, args...)...)
}

// serve starts `hearsay serve` inside ns, listening on QUIC and TCP port
// 4001 of every address there, with its API on the namespace's loopback.
func (l *lab) serve(ns, dir string, args ...string) *serving {
	l.t.Helper()
	args = append([]string{"serve", "--listen", "/ip4/0.0.0.0/udp/4001/quic-v1", "--listen", "/ip4/0.0.0.0/tcp/4001", "--api", "127.0.0.1:0"}, args...)
	return startServing(l.t, l.command(ns, args...), dir)
}

// hearsay runs a command inside ns, as the package's hearsay does.
func (l *lab) hearsay(ns, dir string, args ...string) result {
	l.t.Helper()
	cmd := l.command(ns, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asCLI+"=1", "HEARSAY_HOME="+filepath.Join(dir, "default-home"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// status is the status of the node serving home h inside ns; nil if it
// does not answer.
func (l *lab) status(ns, dir, h string) *node.Status {
	l.t.Helper()
	r := l.hearsay(ns, dir, "--home", h, "status", "--json")
	var st node.Status
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Reach == nil {
		return nil
	}
	return &st
}

// client is an HTTP client whose connections are made inside ns, so that
// the test reaches a node's API on that namespace's loopback.
func (l *lab) client(ns string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return inNamespace(ns, func() (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		})
	}}}
}

// inNamespace runs f on a thread moved into namespace ns: the sockets it
// makes (a dial, a listener) stay there, and the thread comes back.
func inNamespace[T any](ns string, f func() (T, error)) (T, error) {
	var zero T
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	defer own.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return zero, fmt.Errorf("enter %s: %w", ns, err)
	}
	v, err := f()
	if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread() // else the thread stays locked, and ends with the goroutine
	}
	return v, err
}

// addrWith is the first of addrs that contains every part.
func addrWith(t *testing.T, addrs []string, parts ...string) string {
	t.Helper()
	for _, a := range addrs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(a, p)
		}
		if ok {
			return a
		}
	}
	t.Fatalf("no address with %q among %q", parts, addrs)
	return ""
}

// waitFor polls cond every 200 ms for at most limit and returns how long
// it took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start)
}

// natPMP runs a NAT-PMP server (RFC 6886) for router ns on its LAN address
// lan, as home routers offer one: it tells the external address wan, and
// maps the ports it is asked for to host with a DNAT rule on the router's
// WAN interface wanIf. It serves until the test ends.
func (l *lab) natPMP(ns, lan, wan, host, wanIf string) {
	l.t.Helper()
	conn, err := inNamespace(ns, func() (net.PacketConn, error) { return net.ListenPacket("udp", net.JoinHostPort(lan, "5351")) })
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { conn.Close() })
	start := time.Now()
	ext := net.ParseIP(wan).To4()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 2 || buf[0] != 0 {
				continue
			}
			op := buf[1]
			epoch := binary.BigEndian.AppendUint32(nil, uint32(time.Since(start)/time.Second))
			out := append([]byte{0, 128 + op, 0, 0}, epoch...)
			switch {
			case op == 0 && n == 2: // the external address
				out = append(out, ext...)
			case (op == 1 || op == 2) && n == 12: // map a UDP (1) or TCP (2) port
				internal := binary.BigEndian.Uint16(buf[4:6])
				external := binary.BigEndian.Uint16(buf[6:8])
				if external == 0 {
					external = internal
				}
				lifetime := binary.BigEndian.Uint32(buf[8:12])
				if lifetime > 0 {
					proto := map[byte]string{1: "udp", 2: "tcp"}[op]
					exec.Command("ip", "netns", "exec", ns, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", wanIf, "-p", proto,
						"--dport", fmt.Sprint(external), "-j", "DNAT", "--to-destination", fmt.Sprintf("%s:%d", host, internal)).Run()
				}
				out = binary.BigEndian.AppendUint16(out, internal)
				out = binary.BigEndian.AppendUint16(out, external)
				out = binary.BigEndian.AppendUint32(out, lifetime)
			default:
				continue
			}
			conn.WriteTo(out, from)
		}
	}()
}
