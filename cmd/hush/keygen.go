package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// keygenOptions are the flags of hush keygen.
type keygenOptions struct {
	PQ         bool
	Passphrase bool
	Output     string
	// Convert (-y) prints the recipients of the identity file Input
	// instead of generating one.
	Convert bool
	Input   string
}

func (a *app) keygenCmd() *cobra.Command {
	var o keygenOptions
	cmd := &cobra.Command{
		Use:   "keygen [--pq] [--passphrase] [-o FILE] | keygen -y [FILE]",
		Short: "generate a new identity, or print the public key of one (-y)",
		Long: `Generate a new age identity and write it to FILE (default
$XDG_CONFIG_HOME/hush/identity.txt; '-' for standard output), created with
mode 0600 and never over an existing file. The public key is printed on
standard output (on standard error with -o -).

With --passphrase the identity file is encrypted with a passphrase (age's
scrypt), typed twice on the terminal, or read from the first line of
standard input when it is not a terminal. Never from the command line.

With -y, print the recipient (public key) of every identity in FILE, one
a line, as age-keygen -y does: FILE defaults to the default identity file,
'-' reads standard input. X25519 and post-quantum identities give their
age1 recipient; an SSH private key gives its public key line. A
passphrase-encrypted identity file asks for its passphrase on the terminal
(three tries). Plugin identities do not reveal their recipient: ask the
plugin.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.Convert {
				return rangeArgs(0, 1, "at most one identity FILE with -y")(cmd, args)
			}
			return exactArgs(0, "no arguments (the output file goes in -o)")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Convert {
				if o.PQ || o.Passphrase || o.Output != "" {
					return usageErrorf("-y prints the public key of an existing identity; --pq, --passphrase and -o do not apply")
				}
				if len(args) == 1 {
					o.Input = args[0]
				}
				return a.runKeygenConvert(o, a.stdout)
			}
			if o.Output == "" {
				p, err := a.identityPath()
				if err != nil {
					return err
				}
				o.Output = p
			}
			return a.runKeygen(o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.PQ, "pq", false, "generate a post-quantum (ML-KEM hybrid) identity")
	cmd.Flags().BoolVar(&o.Passphrase, "passphrase", false, "encrypt the identity file with a passphrase")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the identity to `FILE` ('-' for stdout)")
	cmd.Flags().BoolVarP(&o.Convert, "public-key", "y", false, "print the recipient (public key) of each identity in FILE, default the default identity")
	return cmd
}

// runKeygen writes a new identity to o.Output, or to w when it is "-",
// and prints its public key on w (on stderr, as a warning, when the
// identity itself went to w). With o.Passphrase the passphrase is asked
// for once the output is known to be free. It never replaces a file.
func (a *app) runKeygen(o keygenOptions, w io.Writer) error {
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
		r, err := writeIdentity(w, o.PQ, pass)
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
	fmt.Fprintln(w, r)
	return nil
}
