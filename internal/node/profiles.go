package node

import (
	"errors"
	"fmt"

	"hearsay/internal/entry"
	"hearsay/internal/group"
	"hearsay/internal/home"
	"hearsay/internal/view"
)

// ProfileResult is what SetProfile did in one group.
type ProfileResult struct {
	Group string `json:"group"`
	Name  string `json:"name"`
	ID    string `json:"id,omitempty"`    // the profile entry written
	Error string `json:"error,omitempty"` // why none was
}

// SetProfile saves the author's display name and signs it into every group
// this node replicates and may write to; later, a group it first writes to
// gets it before that first entry (ensureProfile).
func (n *Node) SetProfile(p home.Profile) ([]ProfileResult, error) {
	body, err := group.EncodeProfile(group.Profile{Name: p.Name, About: p.About})
	if err != nil {
		return nil, err
	}
	if err := n.Home.SaveProfile(p); err != nil {
		return nil, err
	}
	n.profile.Store(&p)
	gs, err := n.Replicated()
	if err != nil {
		return nil, err
	}
	var out []ProfileResult
	for _, g := range gs {
		r := ProfileResult{Group: g.ID.String(), Name: g.Name}
		id, err := n.write(g.ID, group.KindProfile, nil, body)
		if err != nil {
			r.Error = err.Error()
		} else {
			r.ID = id.String()
		}
		out = append(out, r)
	}
	return out, nil
}

// ensureProfile signs the author's profile into group g before its first
// entry there, when it has one and none is in g yet. Failing to is not the
// write's failure: the write itself says why g refuses this author.
func (n *Node) ensureProfile(g entry.ID) {
	p := n.profile.Load()
	if p == nil {
		read, ok, err := n.Home.Profile()
		if err != nil {
			return
		}
		if !ok {
			read = home.Profile{} // none: remembered, so the file is read once
		}
		p = &read
		n.profile.Store(p)
	}
	if p.Name == "" {
		return
	}
	found := false
	if err := n.Store.ScanView(view.ProfilesOf(g, n.Home.Author), func(_, _ []byte) bool { found = true; return false }); err != nil || found {
		return
	}
	if body, err := group.EncodeProfile(group.Profile{Name: p.Name, About: p.About}); err == nil {
		n.write(g, group.KindProfile, nil, body)
	}
}

// Names tells who authors are in one group: the petname this node's user
// gave them, else the display name they signed there.
type Names struct {
	petnames map[string]string
	profiles map[entry.Author]group.Profile
}

// Names reads group gid's profiles and the home's petnames.
func (n *Node) Names(gid entry.ID) (*Names, error) {
	v, err := n.View(gid)
	if err != nil {
		return nil, err
	}
	return n.NamesOf(v)
}

// NamesOf is Names for a view already open.
func (n *Node) NamesOf(v *view.View) (*Names, error) {
	pets, err := n.Home.Petnames()
	if err != nil {
		return nil, err
	}
	profiles, err := v.Profiles()
	if err != nil {
		return nil, err
	}
	return &Names{petnames: pets, profiles: profiles}, nil
}

// Of is author a's name, "" when it has none.
func (ns *Names) Of(a entry.Author) string {
	if ns == nil {
		return ""
	}
	if p, ok := ns.petnames[a.String()]; ok {
		return p
	}
	return ns.profiles[a].Name
}

// Label is how people see author a: "name (short id)", or the short id
// alone. The short id keeps two authors who chose one name apart.
func (ns *Names) Label(a entry.Author) string { return Label(ns.Of(a), a) }

// Label is "name (short id)" for a name, else the short id.
func Label(name string, a entry.Author) string {
	if name == "" {
		return a.Short()
	}
	return fmt.Sprintf("%s (%s)", name, a.Short())
}

// SetPetname names author a for this node's user alone; an empty name
// removes the petname.
func (n *Node) SetPetname(a entry.Author, name string) error {
	if name != "" {
		if _, err := group.EncodeProfile(group.Profile{Name: name}); err != nil {
			return fmt.Errorf("petname: %w", err)
		}
	}
	pets, err := n.Home.Petnames()
	if err != nil {
		return err
	}
	if name == "" {
		if _, ok := pets[a.String()]; !ok {
			return errors.New("no petname for " + a.Short())
		}
		delete(pets, a.String())
	} else {
		pets[a.String()] = name
	}
	return n.Home.SavePetnames(pets)
}
