package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// generateOptions are the flags of hush generate.
type generateOptions struct {
	Name      string
	Length    int
	Charset   string
	IfMissing bool
	Print     bool
}

// charsets are the alphabets of hush generate, each symbol drawn with
// equal probability.
var charsets = map[string]string{
	"alnum":     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	"ascii":     asciiPrintable(), // every printable ASCII character but space
	"hex":       "0123456789abcdef",
	"base64url": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
}

func asciiPrintable() string {
	var b strings.Builder
	for c := byte('!'); c <= '~'; c++ {
		b.WriteByte(c)
	}
	return b.String()
}

func (a *app) generateCmd() *cobra.Command {
	var o generateOptions
	cmd := &cobra.Command{
		Use:   "generate NAME",
		Short: "store a new random value (from crypto/rand) under NAME",
		Long: `Store a random value under NAME, drawn from the operating system's
cryptographic random source with every symbol of the charset equally likely:

  alnum       A-Z a-z 0-9 (the default)
  ascii       every printable ASCII character except space
  hex         0-9 a-f
  base64url   A-Z a-z 0-9 - _

An existing value is replaced (its description and creation time kept),
unless --if-missing is given, which keeps it. Nothing is printed unless
--print is given: then the value NAME holds afterwards, and a newline.`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := checkGenerateOptions(o); err != nil {
				return err
			}
			p, _, err := a.openUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			kept, err := runGenerate(cmd.Context(), p, o, rand.Reader, a.stdout)
			if kept {
				a.warnf("%s exists; kept its value (--if-missing)", o.Name)
			}
			return err
		},
	}
	cmd.Flags().IntVar(&o.Length, "length", 32, "the value's length in characters (1 to 4194304)")
	cmd.Flags().StringVar(&o.Charset, "charset", "alnum", "the characters to draw from: alnum, ascii, hex or base64url")
	cmd.Flags().BoolVar(&o.IfMissing, "if-missing", false, "keep an existing value instead of replacing it")
	cmd.Flags().BoolVar(&o.Print, "print", false, "print the value NAME holds afterwards")
	return cmd
}

// checkGenerateOptions refuses, as usage errors, a name, length or
// charset that cannot be generated.
func checkGenerateOptions(o generateOptions) error {
	if err := checkNames("generate", o.Name); err != nil {
		return err
	}
	if o.Length < 1 || o.Length > store.MaxValueLen {
		return usageErrorf("--length must be between 1 and %d (got %d)", store.MaxValueLen, o.Length)
	}
	if _, ok := charsets[o.Charset]; !ok {
		return usageErrorf("unknown --charset %q (want alnum, ascii, hex or base64url)", o.Charset)
	}
	return nil
}

// runGenerate stores a value of o.Length symbols of o.Charset drawn from
// random under o.Name, in one change. With o.IfMissing an existing value
// is kept, and kept is true. With o.Print the value o.Name then holds is
// written to stdout with a newline. Nothing is written on any error.
func runGenerate(ctx context.Context, p store.Provider, o generateOptions, random io.Reader, stdout io.Writer) (kept bool, err error) {
	if err := checkGenerateOptions(o); err != nil {
		return false, err
	}
	value, err := randomString(random, charsets[o.Charset], o.Length)
	if err != nil {
		return false, err
	}
	defer clear(value)
	var existing []byte
	err = store.Update(ctx, p, func(tx store.Tx) error {
		if o.IfMissing {
			cur, err := tx.Get(o.Name)
			if err == nil {
				existing, kept = cur, true
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return tx.Set(o.Name, value)
	})
	if err != nil {
		return false, err
	}
	if !o.Print {
		clear(existing)
		return kept, nil
	}
	out := value
	if kept {
		out = existing
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	clear(existing)
	return kept, err
}

// randomString returns n symbols of charset (at most 256 symbols), each
// chosen uniformly from bytes of random: a byte is used only if it is
// below the largest multiple of len(charset) that fits in a byte, so no
// symbol is more likely than another (no modulo bias).
func randomString(random io.Reader, charset string, n int) ([]byte, error) {
	k := len(charset)
	if k == 0 || k > 256 {
		return nil, fmt.Errorf("generate: a charset has 1 to 256 symbols, not %d", k)
	}
	limit := 256 - 256%k // bytes at or above limit would favour the first symbols
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+16)
	defer clear(buf)
	for len(out) < n {
		if _, err := io.ReadFull(random, buf); err != nil {
			clear(out)
			return nil, fmt.Errorf("generate: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, charset[int(b)%k])
				if len(out) == n {
					break
				}
			}
		}
	}
	return out, nil
}
