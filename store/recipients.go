package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
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

// Recipients returns the recipients the store is encrypted to.
func (f *File) Recipients(ctx context.Context) ([]string, error) {
	d, err := f.load(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(d.Recipients), nil
}

// AddRecipients adds recipients (duplicates are ignored) and re-encrypts.
func (f *File) AddRecipients(ctx context.Context, add []string) error {
	return f.changeRecipients(ctx, false, false, func(cur []string) ([]string, error) {
		out := slices.Clone(cur)
		for _, r := range add {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
		return out, nil
	})
}

// RemoveRecipients removes recipients and re-encrypts with a new store
// key (and a proof that the writer knew the old one), so that a removed
// recipient cannot write a store that readers accept from then on. Unless
// force is set, it refuses with ErrLastRecipient when none of the
// caller's identities could decrypt the result. Removing a recipient that
// is not present is an error.
func (f *File) RemoveRecipients(ctx context.Context, remove []string, force bool) error {
	return f.changeRecipients(ctx, !force, true, func(cur []string) ([]string, error) {
		var out []string
		for _, r := range remove {
			if !slices.Contains(cur, r) {
				return nil, fmt.Errorf("%w %s: not a recipient of this store", ErrInvalidRecipient, shortRecipient(r))
			}
		}
		for _, r := range cur {
			if !slices.Contains(remove, r) {
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
	return f.changeRecipients(ctx, false, true, func(cur []string) ([]string, error) { return cur, nil })
}

func (f *File) changeRecipients(ctx context.Context, verify, rotate bool, change func([]string) ([]string, error)) error {
	return f.locked(ctx, func() error {
		cur, err := f.load(ctx)
		if err != nil {
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
		return f.write(d, verify)
	})
}
