package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// lanLab is one namespace "LAN": a bridge in the first host's namespace,
// and the hosts on it at 10.0.9.1, 10.0.9.2, …
func lanLab(t *testing.T, hosts int) (*lab, []string) {
	l := newLab(t)
	var names []string
	first := l.host("lan1")
	names = append(names, first)
	attach := l.bridge(first, "br0", "10.0.9.1/24")
	for i := 2; i <= hosts; i++ {
		h := l.host("lan" + string(rune('0'+i)))
		l.link(first, "to"+string(rune('0'+i)), "", h, "eth0", "10.0.9."+string(rune('0'+i))+"/24")
		attach("to" + string(rune('0'+i)))
		names = append(names, h)
	}
	return l, names
}

// TestLANDiscovery: two nodes on one LAN, with no bootstrap peer, find each
// other by mDNS; one joins the other's group with no --peer and a post
// crosses. A third, started with --no-mdns, is found by neither.
func TestLANDiscovery(t *testing.T) {
	l, hosts := lanLab(t, 3)
	dir := t.TempDir()
	for _, h := range []string{"a", "b", "c"} {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
	}
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	l.serve(hosts[2], dir, "--home", "c", "--no-mdns")
	start := time.Now()
	l.serve(hosts[0], dir, "--home", "a")
	l.serve(hosts[1], dir, "--home", "b")
	aID := l.status(hosts[0], dir, "a").PeerID
	cID := l.status(hosts[2], dir, "c").PeerID
	waitFor(t, 20*time.Second, "b finding a on the LAN", func() bool {
		return strings.Contains(l.hearsay(hosts[1], dir, "--home", "b", "peers").stdout, aID)
	})
	t.Logf("b found a by mDNS %v after they started", time.Since(start).Round(time.Millisecond))
	if got := must(t, l.hearsay(hosts[1], dir, "--home", "b", "group", "join", g)); got != g {
		t.Fatalf("join printed %q", got)
	}
	post := must(t, l.hearsay(hosts[0], dir, "--home", "a", "post", g, "over the LAN"))
	waitFor(t, 10*time.Second, "a's post reaching b", func() bool {
		return strings.Contains(l.hearsay(hosts[1], dir, "--home", "b", "log", g).stdout, post[:12])
	})
	for i, h := range []string{"a", "b"} {
		if peers := l.hearsay(hosts[i], dir, "--home", h, "peers").stdout; strings.Contains(peers, cID) {
			t.Fatalf("%s found c, which runs with --no-mdns:\n%s", h, peers)
		}
	}
}

// dnsServer answers TXT questions for the names in records, over UDP on
// conn, until the test ends; other questions get NXDOMAIN.
func dnsServer(t *testing.T, conn net.PacketConn, records map[string][]string) {
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			txts, ok := records[strings.TrimSuffix(q.Name.String(), ".")]
			if !ok || q.Type != dnsmessage.TypeTXT {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError})
			}
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			if ok && q.Type == dnsmessage.TypeTXT {
				for _, txt := range txts {
					b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.TXTResource{TXT: []string{txt}})
				}
			}
			if out, err := b.Finish(); err == nil {
				conn.WriteTo(out, from)
			}
		}
	}()
}

// TestDNSAddrBootstrap: a node whose only bootstrap is a /dnsaddr/ name
// resolves it through a DNS server on the LAN (a small one the test runs,
// given with --dns) to a member's address, connects, and joins its group
// through the DHT.
func TestDNSAddrBootstrap(t *testing.T) {
	l, hosts := lanLab(t, 2)
	dir := t.TempDir()
	for _, h := range []string{"a", "b"} {
		must(t, hearsay(t, dir, nil, "--home", h, "init"))
	}
	g := must(t, hearsay(t, dir, nil, "--home", "a", "group", "create", "demo", "--write", "open"))
	post := must(t, hearsay(t, dir, nil, "--home", "a", "post", g, "found by name"))
	a := l.serve(hosts[0], dir, "--home", "a", "--no-mdns")
	aAddr := addrWith(t, a.addrs, "/ip4/10.0.9.1/", "/quic-v1/")
	conn, err := inNamespace(hosts[0], func() (net.PacketConn, error) { return net.ListenPacket("udp", "10.0.9.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	// Two levels, as a community would publish them: the name lists a
	// second, which lists the node.
	dnsServer(t, conn, map[string][]string{
		"_dnsaddr.bootstrap.hearsay.example":  {"dnsaddr=/dnsaddr/registries.hearsay.example"},
		"_dnsaddr.registries.hearsay.example": {"dnsaddr=" + aAddr},
	})
	l.serve(hosts[1], dir, "--home", "b", "--no-mdns", "--bootstrap", "/dnsaddr/bootstrap.hearsay.example", "--dns", conn.LocalAddr().String())
	aID := l.status(hosts[0], dir, "a").PeerID
	waitFor(t, 15*time.Second, "b reaching a by its name", func() bool {
		return strings.Contains(l.hearsay(hosts[1], dir, "--home", "b", "peers").stdout, aID)
	})
	if got := must(t, l.hearsay(hosts[1], dir, "--home", "b", "group", "join", g)); got != g {
		t.Fatalf("join printed %q", got)
	}
	if log := must(t, l.hearsay(hosts[1], dir, "--home", "b", "log", g)); !strings.Contains(log, post[:12]) {
		t.Fatalf("b's log after joining:\n%s", log)
	}
	if r := hearsay(t, dir, nil, "--home", "other", "serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0", "--dns", "nowhere"); r.code != 1 || !strings.Contains(r.stderr, `DNS server "nowhere": want HOST:PORT`) {
		t.Fatalf("serve --dns nowhere: exit %d, %q", r.code, r.stderr)
	}
}
