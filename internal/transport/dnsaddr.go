package transport

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	madns "github.com/multiformats/go-multiaddr-dns"
)

// NewResolver resolves /dnsaddr/ (and /dns/) addresses through the DNS
// server at server (HOST:PORT, over UDP); "" is the system's resolver.
func NewResolver(server string) (*madns.Resolver, error) {
	if server == "" {
		return madns.NewResolver()
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		return nil, fmt.Errorf("DNS server %q: want HOST:PORT", server)
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
	return madns.NewResolver(madns.WithDefaultResolver(r))
}

// IsDNSAddr reports whether addr is a /dnsaddr/ name, which stands for the
// peer addresses its TXT records list (Resolve), as libp2p bootstrap lists
// do: a community publishes one name for its registry nodes.
func IsDNSAddr(addr string) bool { return strings.HasPrefix(addr, "/dnsaddr/") }

// maxDNSAddrDepth bounds the /dnsaddr/ records that name further ones.
const maxDNSAddrDepth = 4

// Resolve expands a /dnsaddr/ address into the peer addresses (ending in
// /p2p/<peer id>) its TXT records list, following records that name
// further /dnsaddr/ names a few levels deep; any other address is itself.
func Resolve(ctx context.Context, r *madns.Resolver, addr string) ([]string, error) {
	if !IsDNSAddr(addr) {
		return []string{addr}, nil
	}
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return nil, fmt.Errorf("peer address %q: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []string
	todo := []ma.Multiaddr{m}
	for depth := 0; len(todo) > 0 && depth <= maxDNSAddrDepth; depth++ {
		var next []ma.Multiaddr
		for _, a := range todo {
			got, err := r.Resolve(ctx, a)
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", a, err)
			}
			for _, g := range got {
				if IsDNSAddr(g.String()) {
					next = append(next, g)
				} else if _, err := AddrInfo(g.String()); err == nil {
					out = append(out, g.String())
				}
			}
		}
		todo = next
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no TXT record names a peer address (dnsaddr=/…/p2p/<peer id>)", addr)
	}
	return out, nil
}
