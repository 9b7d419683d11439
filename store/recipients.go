package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/plugin"
)

// ParseRecipient parses one recipient: X25519 (age1...), post-quantum
// hybrid (age1pq1...), an age plugin (age1name1...), an SSH ed25519 or
// RSA public key, or a data-less plugin identity (AGE-PLUGIN-NAME-1...,
// what `age -j name` encrypts to, e.g. age-plugin-batchpass, whose
// identity holds no key material). A plugin identity that carries data is
// refused: it may be private. The error wraps ErrInvalidRecipient.
func ParseRecipient(s string, ui *plugin.ClientUI) (age.Recipient, error) {
	var (
		r   age.Recipient
		err error
	)
	s = normalRecipient(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		r, err = age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1") && strings.Count(s, "1") > 1:
		if ui == nil {
			ui = noninteractiveUI
		}
		r, err = plugin.NewRecipient(s, ui)
	case strings.HasPrefix(s, "age1"):
		r, err = age.ParseX25519Recipient(s)
	case strings.HasPrefix(s, "ssh-"):
		r, err = agessh.ParseRecipient(s)
	case strings.HasPrefix(s, "AGE-PLUGIN-"):
		r, err = dataLessPluginRecipient(s, ui)
	case s == PassphraseRecipient:
		err = errors.New("a passphrase store cannot share its recipient list")
	default:
		err = errors.New("unknown recipient type")
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrInvalidRecipient, shortRecipient(s), err)
	}
	return r, nil
}

// dataLessPluginRecipient encrypts to a plugin through its identity, as
// `age -j name` does. Only identities without data are accepted.
func dataLessPluginRecipient(s string, ui *plugin.ClientUI) (age.Recipient, error) {
	name, data, err := plugin.ParseIdentity(s)
	if err != nil {
		return nil, errors.New("malformed plugin identity")
	}
	if len(data) != 0 {
		return nil, errors.New("a plugin identity with data may be private; use the plugin's recipient (age1...)")
	}
	if ui == nil {
		ui = noninteractiveUI
	}
	id, err := plugin.NewIdentityWithoutData(name, ui)
	if err != nil {
		return nil, err
	}
	return id.Recipient(), nil
}

// shortRecipient renders a recipient for an error message. Recipients are
// public, but a mistaken paste may be an identity, so only a prefix shows.
func shortRecipient(s string) string {
	if strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY") || strings.HasPrefix(s, "AGE-PLUGIN-") {
		return `"AGE-...": an identity (private key), not a recipient`
	}
	if len(s) > 24 {
		s = s[:20] + "..."
	}
	return fmt.Sprintf("%q", s)
}

var noninteractiveUI = &plugin.ClientUI{
	DisplayMessage: func(name, message string) error { return nil },
	RequestValue: func(name, prompt string, secret bool) (string, error) {
		return "", errors.New("plugin asked for input, but no terminal is available")
	},
	Confirm: func(name, prompt, yes, no string) (bool, error) {
		return false, errors.New("plugin asked for confirmation, but no terminal is available")
	},
}

// ParseRecipientsFile reads recipients, one per line; blank lines and lines
// starting with # are skipped. Each is checked with ParseRecipient.
func ParseRecipientsFile(data []byte, ui *plugin.ClientUI) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := ParseRecipient(line, ui); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no recipients in file", ErrInvalidRecipient)
	}
	return out, nil
}

// normalRecipient returns s with an upper-case bech32 recipient (AGE1...)
// in lower case, the form age writes; anything else as it is.
func normalRecipient(s string) string {
	if strings.HasPrefix(s, "AGE1") && s == strings.ToUpper(s) {
		return strings.ToLower(s)
	}
	return s
}

// recipientKey returns what identifies the key of recipient s: a bech32
// recipient in lower case, an SSH key without its comment.
func recipientKey(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "age1") {
		return strings.ToLower(s)
	}
	if strings.HasPrefix(strings.ToUpper(s), "AGE-PLUGIN-") {
		return strings.ToUpper(s)
	}
	if f := strings.Fields(s); len(f) >= 2 && (strings.HasPrefix(f[0], "ssh-") || strings.HasPrefix(f[0], "ecdsa-")) {
		return f[0] + " " + f[1]
	}
	return s
}

// SameRecipient reports whether a and b are the same key: an SSH key with
// another comment, or a bech32 recipient in another case, is.
func SameRecipient(a, b string) bool { return recipientKey(a) == recipientKey(b) }

// indexRecipient returns the index of the first of rs that is the same
// key as r, or -1.
func indexRecipient(rs []string, r string) int {
	return slices.IndexFunc(rs, func(x string) bool { return SameRecipient(x, r) })
}

// isPlugin reports whether the recipient key k (see recipientKey) is
// encrypted to by running a plugin program: age1NAME1... or
// AGE-PLUGIN-NAME-1....
func isPlugin(k string) bool {
	return strings.HasPrefix(k, "AGE-PLUGIN-") ||
		(strings.HasPrefix(k, "age1") && !strings.HasPrefix(k, "age1pq1") && strings.Count(k, "1") > 1)
}

// pluginName returns the NAME of a plugin recipient (age-plugin-NAME).
func pluginName(r string) string {
	k := recipientKey(r)
	if rest, ok := strings.CutPrefix(k, "AGE-PLUGIN-"); ok {
		k = "age1" + rest
	}
	k = strings.TrimPrefix(strings.ToLower(k), "age1")
	if i := strings.LastIndexAny(k, "1"); i >= 0 {
		k = strings.TrimSuffix(k[:i], "-")
	}
	return k
}

// checkPlugins refuses to write d if it lists a plugin recipient that
// this client never accepted (see stateOf) and that was not given for
// this write: encrypting to it would run a program named by whoever wrote
// the store. With no state (the check off, or a first use whose record
// failed) every recipient is accepted.
func (f *File) checkPlugins(d *document) error {
	if f.opts.StateDir == "" {
		return nil
	}
	var st *AcceptedState
	for _, r := range d.Recipients {
		k := recipientKey(r)
		if !isPlugin(k) || indexRecipient(d.givenPlugins, k) >= 0 {
			continue
		}
		if st == nil {
			var err error
			if st, err = f.loadState(); err != nil || st == nil {
				return err
			}
		}
		if !slices.Contains(st.plugins, k) {
			return &IntegrityError{Path: f.path, Plugin: r}
		}
	}
	return nil
}

// Recipients returns the recipients the store is encrypted to.
func (f *File) Recipients(ctx context.Context) ([]string, error) {
	d, err := f.load(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(d.Recipients), nil
}

// AddRecipients adds recipients and re-encrypts. Recipients compare as
// keys (see SameRecipient): one already present, or given twice, is
// added once; when none is new, nothing is written. The plugin
// recipients given are accepted by this client (see Options.StateDir)
// even then.
func (f *File) AddRecipients(ctx context.Context, add []string) error {
	return f.changeRecipients(ctx, false, false, add, func(cur []string) ([]string, error) {
		out := slices.Clone(cur)
		for _, r := range add {
			if indexRecipient(out, r) < 0 {
				out = append(out, normalRecipient(strings.TrimSpace(r)))
			}
		}
		return out, nil
	})
}

// RemoveRecipients removes recipients and re-encrypts with a new store
// key (and a proof that the writer knew the old one), so that a removed
// recipient cannot write a store that readers accept from then on.
// Recipients compare as keys (see SameRecipient). Unless force is set, it
// refuses with ErrLastRecipient when none of the caller's identities
// could decrypt the result. Removing a recipient that is not present is
// an error.
func (f *File) RemoveRecipients(ctx context.Context, remove []string, force bool) error {
	return f.changeRecipients(ctx, !force, true, nil, func(cur []string) ([]string, error) {
		var out []string
		for _, r := range remove {
			if indexRecipient(cur, r) < 0 {
				return nil, fmt.Errorf("%w %s: not a recipient of this store", ErrInvalidRecipient, shortRecipient(r))
			}
		}
		for _, r := range cur {
			if indexRecipient(remove, r) < 0 {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: a store needs at least one recipient", ErrLastRecipient)
		}
		return out, nil
	})
}

// Rekey re-encrypts the store to its recipients with a fresh file key
// and a fresh store key.
func (f *File) Rekey(ctx context.Context) error {
	return f.changeRecipients(ctx, false, true, nil, func(cur []string) ([]string, error) { return cur, nil })
}

// changeRecipients writes the store with the recipients change returns,
// rotating the store key if rotate. Without rotate, an unchanged list
// writes nothing, but the plugin recipients given are still accepted.
func (f *File) changeRecipients(ctx context.Context, verify, rotate bool, given []string, change func([]string) ([]string, error)) error {
	return f.locked(ctx, func() error {
		cur, err := f.load(ctx)
		if err != nil {
			return err
		}
		if err := f.writable(cur); err != nil {
			return err
		}
		d := cur.clone()
		if rotate {
			d.rotate()
		}
		d.Recipients, err = change(d.Recipients)
		if err != nil {
			return err
		}
		d.givenPlugins = given
		if !rotate && slices.Equal(d.Recipients, cur.Recipients) {
			return f.acceptPlugins(given)
		}
		return f.write(d, verify)
	})
}

// acceptPlugins records the plugin recipients among rs as accepted.
func (f *File) acceptPlugins(rs []string) error {
	st, err := f.loadState()
	if err != nil || st == nil {
		return err
	}
	n := len(st.plugins)
	for _, r := range rs {
		if k := recipientKey(r); isPlugin(k) && !slices.Contains(st.plugins, k) {
			st.plugins = append(st.plugins, k)
		}
	}
	if len(st.plugins) == n {
		return nil
	}
	abs, _ := filepath.Abs(f.path)
	return f.saveState(st.marshal(abs))
}
