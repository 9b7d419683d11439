package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// scryptWorkFactor, when non-zero, overrides age's scrypt work factor for
// passphrase-encrypted identities. Only tests set it, to stay fast.
var scryptWorkFactor int

// initOptions are the flags of hush init.
type initOptions struct {
	Recipients     []string
	RecipientFiles []string
	PQ             bool
	Armor          bool
}

func (a *app) initCmd() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init [-r RECIPIENT]... [-R FILE]...",
		Short: "create the store",
		Long: `Create an empty store encrypted to the given recipients. With none, hush uses
your identity (-i, HUSH_IDENTITY, HUSH_IDENTITY_FILE or the default file) and,
if you have none yet, generates one at $XDG_CONFIG_HOME/hush/identity.txt
(mode 0600) and encrypts to it. An existing store is never overwritten
(exit 4).`,
		Args: exactArgs(0, "no arguments (recipients go in -r)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.noScope("init"); err != nil {
				return err
			}
			return a.runInit(cmd.Context(), o)
		},
	}
	cmd.Flags().StringArrayVarP(&o.Recipients, "recipient", "r", nil, "encrypt to `RECIPIENT` (repeatable)")
	cmd.Flags().StringArrayVarP(&o.RecipientFiles, "recipients-file", "R", nil, "encrypt to the recipients listed in `FILE` (repeatable)")
	cmd.Flags().BoolVar(&o.PQ, "pq", false, "generate a post-quantum (ML-KEM hybrid) identity if one is generated")
	cmd.Flags().BoolVar(&o.Armor, "armor", false, "write an ASCII-armored store")
	return cmd
}

func (a *app) runInit(ctx context.Context, o initOptions) error {
	path, err := a.storePath()
	if err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return withHint(&store.StoreError{Path: path, Err: store.ErrExists},
			"hush never overwrites a store; use 'hush recipients add' to share it, or choose another --store")
	}
	wait, err := a.lockWait()
	if err != nil {
		return err
	}
	rs, err := readRecipientFlags(o.Recipients, o.RecipientFiles)
	if err != nil {
		return err
	}
	if len(rs) > 0 && o.PQ {
		return usageErrorf("--pq applies to a generated identity; to encrypt to a post-quantum recipient, pass it with -r")
	}
	var generated string
	if len(rs) == 0 {
		found, err := a.findIdentities()
		switch {
		case errors.Is(err, store.ErrNoIdentity):
			if generated, err = a.identityPath(); err != nil {
				return err
			}
			r, err := writeNewIdentity(generated, o.PQ, nil)
			if err != nil {
				return err
			}
			a.warnf("created identity %s (public key %s)", generated, r)
			a.warnf("hint: back it up: without it the store cannot be decrypted")
			rs = []string{r}
		case err != nil:
			return err
		default:
			if rs, err = recipientsOf(found.Identities); err != nil {
				if rs, err = a.recipientsOfEncrypted(found.Paths); err != nil {
					return err
				}
			}
			if o.PQ && !anyPQ(rs) {
				return withHint(fmt.Errorf("%w: --pq: the identity from %s is not post-quantum", errRefused, found.From),
					"generate one with 'hush keygen --pq -o FILE' and pass it with -i, or drop --pq")
			}
		}
	}
	_, err = store.Create(ctx, path, rs, store.Options{Armor: o.Armor, LockTimeout: wait, AllowInsecurePermissions: a.allowInsecure()})
	if err != nil {
		if generated != "" {
			os.Remove(generated)
		}
		return err
	}
	a.warnf("created store %s for %d recipient(s)", path, len(rs))
	return nil
}

func anyPQ(rs []string) bool {
	for _, r := range rs {
		if len(r) > 7 && r[:7] == "age1pq1" {
			return true
		}
	}
	return false
}

// readRecipientFlags validates -r values and reads -R files.
func readRecipientFlags(rs, files []string) ([]string, error) {
	var out []string
	for _, r := range rs {
		if _, err := store.ParseRecipient(r, nil); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("recipients file: %w", err)
		}
		more, err := store.ParseRecipientsFile(data, nil)
		if err != nil {
			return nil, fmt.Errorf("recipients file %s: %w", f, err)
		}
		out = append(out, more...)
	}
	return out, nil
}

// keygenOptions are the flags of hush keygen.
type keygenOptions struct {
	PQ         bool
	Passphrase bool
	Output     string
}

func (a *app) keygenCmd() *cobra.Command {
	var o keygenOptions
	cmd := &cobra.Command{
		Use:   "keygen [--pq] [--passphrase] [-o FILE]",
		Short: "generate a new identity",
		Long: `Generate a new age identity and write it to FILE (default
$XDG_CONFIG_HOME/hush/identity.txt; '-' for standard output), created with
mode 0600 and never over an existing file. The public key is printed on
standard output (on standard error with -o -).

With --passphrase the identity file is encrypted with a passphrase (age's
scrypt), typed twice on the terminal, or read from the first line of
standard input when it is not a terminal. Never from the command line.`,
		Args: exactArgs(0, "no arguments (the output file goes in -o)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Output == "" {
				p, err := a.identityPath()
				if err != nil {
					return err
				}
				o.Output = p
			}
			var pass []byte
			if o.Passphrase {
				if o.Output != "-" {
					if _, err := os.Lstat(o.Output); err == nil {
						return existsErr(o.Output)
					}
				}
				var err error
				if pass, err = a.readNewPassphrase(); err != nil {
					return err
				}
				defer clear(pass)
			}
			if o.Output == "-" {
				r, err := writeIdentity(a.stdout, o.PQ, pass)
				if err != nil {
					return err
				}
				a.warnf("public key: %s", r)
				return nil
			}
			r, err := writeNewIdentity(o.Output, o.PQ, pass)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, r)
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.PQ, "pq", false, "generate a post-quantum (ML-KEM hybrid) identity")
	cmd.Flags().BoolVar(&o.Passphrase, "passphrase", false, "encrypt the identity file with a passphrase")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the identity to `FILE` ('-' for stdout)")
	return cmd
}

func existsErr(path string) error {
	return withHint(fmt.Errorf("%w: %s exists; hush never overwrites an identity", errRefused, path),
		"choose another file with -o, or move the old one away if you are sure it is not needed")
}

// writeNewIdentity creates path (O_EXCL, 0600, parent 0700, fsynced with
// its directory) holding a new identity, encrypted with pass if it is not
// nil, and returns its recipient. It never replaces a file. On error
// nothing is left behind.
func writeNewIdentity(path string, pq bool, pass []byte) (recipient string, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	buf.Grow(4 << 10) // room for any identity: no copy of the key is left behind by a regrowth
	defer func() { clear(buf.Bytes()) }()
	r, err := writeIdentity(&buf, pq, pass)
	if err != nil {
		return "", err
	}
	err = atomicfile.WriteNewFile(path, buf.Bytes(), 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", existsErr(path)
	}
	if err != nil {
		return "", err
	}
	return r, nil
}

// writeIdentity generates an identity and writes it to w in age's identity
// file format, or passphrase-encrypted and armored when pass is not nil.
func writeIdentity(w io.Writer, pq bool, pass []byte) (string, error) {
	var key, recipient string
	if pq {
		id, err := age.GenerateHybridIdentity()
		if err != nil {
			return "", err
		}
		key, recipient = id.String(), id.Recipient().String()
	} else {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return "", err
		}
		key, recipient = id.String(), id.Recipient().String()
	}
	var text bytes.Buffer
	fmt.Fprintf(&text, "# created: %s\n# public key: %s\n%s\n", time.Now().Format(time.RFC3339), recipient, key)
	defer clear(text.Bytes())
	if pass == nil {
		_, err := w.Write(text.Bytes())
		return recipient, err
	}
	sr, err := age.NewScryptRecipient(string(pass))
	if err != nil {
		return "", err
	}
	if scryptWorkFactor != 0 {
		sr.SetWorkFactor(scryptWorkFactor)
	}
	aw := armor.NewWriter(w)
	ew, err := age.Encrypt(aw, sr)
	if err != nil {
		return "", err
	}
	if _, err := ew.Write(text.Bytes()); err != nil {
		return "", err
	}
	if err := ew.Close(); err != nil {
		return "", err
	}
	return recipient, aw.Close()
}

// recipientsOfEncrypted derives the recipients of passphrase-encrypted
// identity files by unlocking them (the passphrase is asked once per
// process, shared with the store's own prompt).
func (a *app) recipientsOfEncrypted(paths []string) ([]string, error) {
	var rs []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(data, []byte("age-encryption.org/")) && !bytes.HasPrefix(bytes.TrimSpace(data), []byte(armor.Header)) {
			continue
		}
		pass, err := a.askPassphrase(fmt.Sprintf("passphrase for identity file %s", p))
		if err != nil {
			return nil, withHint(&store.DecryptError{Reason: err}, "pass the public key with -r RECIPIENT instead")
		}
		sid, err := age.NewScryptIdentity(string(pass))
		clear(pass)
		if err != nil {
			return nil, err
		}
		var r io.Reader = bytes.NewReader(data)
		if !bytes.HasPrefix(data, []byte("age-encryption.org/")) {
			r = armor.NewReader(r)
		}
		pr, err := age.Decrypt(r, sid)
		if err != nil {
			return nil, &store.DecryptError{Reason: fmt.Errorf("identity file %s: wrong passphrase or corrupt file: %w", p, err)}
		}
		plain, err := io.ReadAll(io.LimitReader(pr, 1<<20))
		if err != nil {
			return nil, &store.DecryptError{Reason: fmt.Errorf("identity file %s: %w", p, err)}
		}
		ids, err := store.ParseIdentities(p, plain, store.IdentityOptions{})
		clear(plain)
		if err != nil {
			return nil, err
		}
		more, err := recipientsOf(ids)
		if err != nil {
			return nil, err
		}
		rs = append(rs, more...)
	}
	if len(rs) == 0 {
		return recipientsOf(nil)
	}
	return rs, nil
}
