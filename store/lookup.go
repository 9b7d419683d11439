package store

import "github.com/hush-secrets/hush/store/internal/format"

// cursor remembers, across the lookups of one Values call, where the
// last name was found among a clone's changes and in a decoded base, so
// that a name that comes next in order there (as the keys of a migration
// or an import do) is found at once, not by a binary search. A nil
// cursor remembers nothing.
type cursor struct{ nextChange, nextBase int }

// inChanges is d.changeIndex(name), first trying the change after the
// last one found.
func (c *cursor) inChanges(d *document, name string) (int, bool) {
	if c == nil || d.index != nil {
		return d.changeIndex(name)
	}
	if i := c.nextChange; i < len(d.keys) && d.keys[i] == name {
		c.nextChange++
		return i, true
	}
	i, ok := d.changeIndex(name)
	if ok {
		c.nextChange = i + 1
	}
	return i, ok
}

// inBase is fd.Find(name), first trying the entry after the last one
// found.
func (c *cursor) inBase(fd *format.Document, name string) (int, bool) {
	if c == nil {
		return fd.Find(name)
	}
	if i := c.nextBase; i < len(fd.Entries) && string(fd.Bytes(fd.Entries[i].Name)) == name {
		c.nextBase++
		return i, true
	}
	i, ok := fd.Find(name)
	if ok {
		c.nextBase = i + 1
	}
	return i, ok
}

// valueAt is value, with the lookups through c.
func (d *document) valueAt(name string, c *cursor) ([]byte, bool) {
	if d.base != nil {
		if i, ok := c.inChanges(d, name); ok {
			switch {
			case d.vals[i] == nil:
				return nil, false
			case d.isBulk(i):
				return d.bulkValue(i), true
			}
			return d.vals[i].bytes(), true
		}
		return d.base.valueAt(name, c)
	}
	if fd := d.decoded; fd != nil {
		i, ok := c.inBase(fd, name)
		if !ok {
			return nil, false
		}
		return fd.Value(&fd.Entries[i]), true
	}
	e, ok := d.all()[name]
	if !ok {
		return nil, false
	}
	return e.bytes(), true
}
