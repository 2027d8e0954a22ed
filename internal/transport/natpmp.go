package transport

import (
	"context"
	"net"
	"sync"
	"time"

	natpmp "github.com/jackpal/go-nat-pmp"
	"github.com/libp2p/go-libp2p/core/network"
	bhost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-netroute"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Port mapping is go-libp2p's NAT manager (UPnP, and NAT-PMP) beside one
// of hearsay's for NAT-PMP alone: go-libp2p v0.51 finds the NAT-PMP gateway
// by asking go-netroute for the route to 0.0.0.0, which go-netroute v0.4
// refuses on Linux ("destination IP must be specified"), so its NAT-PMP
// never starts there. A mapping either finds is used.

// portMappers asks each manager in turn.
type portMappers []bhost.NATManager

func newPortMappers(n network.Network) bhost.NATManager {
	return portMappers{bhost.NewNATManager(n), newNATPMP(n)}
}

func (m portMappers) GetMapping(a ma.Multiaddr) ma.Multiaddr {
	for _, x := range m {
		if got := x.GetMapping(a); got != nil {
			return got
		}
	}
	return nil
}

func (m portMappers) HasDiscoveredNAT() bool {
	for _, x := range m {
		if x.HasDiscoveredNAT() {
			return true
		}
	}
	return false
}

func (m portMappers) Close() error {
	for _, x := range m {
		x.Close()
	}
	return nil
}

// pmpLifetime is how long a mapping is asked for; it is renewed at half.
const pmpLifetime = 2 * time.Minute

// routeProbe is the destination whose route names the default gateway (a
// documentation address: the lookup asks the kernel's routing table and
// sends nothing).
var routeProbe = net.IPv4(192, 0, 2, 1)

type pmpKey struct {
	proto string // "tcp" or "udp"
	port  int    // the listening port
}

// natPMP maps the host's listening ports on its default gateway by NAT-PMP
// (RFC 6886), when the gateway answers it.
type natPMP struct {
	net    network.Network
	cancel context.CancelFunc
	done   chan struct{}
	resync chan struct{}

	mu       sync.Mutex
	external net.IP         // nil: no gateway answered
	mapped   map[pmpKey]int // listening port → external port
	client   *natpmp.Client // set with external
}

func newNATPMP(n network.Network) *natPMP {
	ctx, cancel := context.WithCancel(context.Background())
	p := &natPMP{net: n, cancel: cancel, done: make(chan struct{}), resync: make(chan struct{}, 1), mapped: map[pmpKey]int{}}
	n.Notify(&network.NotifyBundle{ListenF: func(network.Network, ma.Multiaddr) { p.poke() }})
	go p.run(ctx)
	return p
}

func (p *natPMP) poke() {
	select {
	case p.resync <- struct{}{}:
	default:
	}
}

func (p *natPMP) run(ctx context.Context) {
	defer close(p.done)
	r, err := netroute.New()
	if err != nil {
		return
	}
	_, gw, _, err := r.Route(routeProbe)
	if err != nil || gw == nil {
		return
	}
	c := natpmp.NewClientWithTimeout(gw, 2*time.Second)
	res, err := c.GetExternalAddress()
	if err != nil || ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	p.client, p.external = c, net.IP(res.ExternalIPAddress[:])
	p.mu.Unlock()
	renew := time.NewTicker(pmpLifetime / 2)
	defer renew.Stop()
	for {
		p.sync()
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
		case <-p.resync:
		}
	}
}

// sync asks for a mapping of every listening TCP and UDP port.
func (p *natPMP) sync() {
	want := map[pmpKey]bool{}
	for _, a := range p.net.ListenAddresses() {
		if manet.IsIPLoopback(a) || !manet.IsThinWaist(a) {
			continue
		}
		na, err := manet.ToNetAddr(a)
		if err != nil {
			continue
		}
		switch na := na.(type) {
		case *net.TCPAddr:
			want[pmpKey{"tcp", na.Port}] = true
		case *net.UDPAddr:
			want[pmpKey{"udp", na.Port}] = true
		}
	}
	for k := range want {
		res, err := p.client.AddPortMapping(k.proto, k.port, k.port, int(pmpLifetime/time.Second))
		p.mu.Lock()
		if err == nil && res.MappedExternalPort != 0 {
			p.mapped[k] = int(res.MappedExternalPort)
		} else {
			delete(p.mapped, k)
		}
		p.mu.Unlock()
	}
}

// GetMapping is the external address of listening address a, if mapped.
func (p *natPMP) GetMapping(a ma.Multiaddr) ma.Multiaddr {
	na, err := manet.ToNetAddr(a)
	if err != nil {
		return nil
	}
	var k pmpKey
	switch na := na.(type) {
	case *net.TCPAddr:
		k = pmpKey{"tcp", na.Port}
	case *net.UDPAddr:
		k = pmpKey{"udp", na.Port}
	default:
		return nil
	}
	p.mu.Lock()
	ext, ok := p.mapped[k]
	ip := p.external
	p.mu.Unlock()
	if !ok || ip == nil {
		return nil
	}
	// Keep what follows the transport (/quic-v1), swapping the address.
	ext4, err := manet.FromNetAddr(&net.UDPAddr{IP: ip, Port: ext})
	if k.proto == "tcp" {
		ext4, err = manet.FromNetAddr(&net.TCPAddr{IP: ip, Port: ext})
	}
	if err != nil {
		return nil
	}
	_, rest := ma.SplitFunc(a, func(c ma.Component) bool {
		return c.Protocol().Code != ma.P_IP4 && c.Protocol().Code != ma.P_IP6 && c.Protocol().Code != ma.P_TCP && c.Protocol().Code != ma.P_UDP
	})
	if len(rest) > 0 {
		return ext4.Encapsulate(rest)
	}
	return ext4
}

func (p *natPMP) HasDiscoveredNAT() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.external != nil
}

func (p *natPMP) Close() error {
	p.cancel()
	<-p.done
	return nil
}
