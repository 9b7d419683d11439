package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

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

// runInit creates the store for o's recipients or, with none, for the
// caller's identities, generating an identity when there is none (and
// removing it again if the store cannot be created). It refuses a store
// that exists and is not empty.
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
	_, err = store.Create(ctx, path, rs, store.Options{Armor: o.Armor, LockTimeout: wait, AllowInsecurePermissions: a.allowInsecure(), StateDir: a.stateDir()})
	if err != nil {
		if generated != "" {
			os.Remove(generated)
		}
		return err
	}
	a.warnf("created store %s for %d recipient(s)", path, len(rs))
	return nil
}

// anyPQ reports whether one of rs is a post-quantum (age1pq1) recipient.
func anyPQ(rs []string) bool {
	for _, r := range rs {
		if len(r) > 7 && r[:7] == "age1pq1" {
			return true
		}
	}
	return false
}

// recipientsOfEncrypted derives the recipients of passphrase-encrypted
// identity files by unlocking them (the passphrase is asked once per
// process, shared with the store's own prompt).
func (a *app) recipientsOfEncrypted(paths []string) ([]string, error) {
	var rs []string
	for _, p := range paths {
		data, err := inputfile.ReadFile(p, locate.MaxIdentityFileSize)
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
