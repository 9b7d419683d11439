// Command benchcli times hush's commands as whole processes against the
// age CLI doing the same job, alternating runs, and prints medians and
// their ratios. scripts/bench-cli.sh (make bench-cli) builds it from here.
//
//	benchcli RUNS NAME-A CMD-A... -- NAME-B CMD-B...
//	benchcli table -hush HUSH -age AGE -floor FLOORWRITE -work DIR [-sizes 1000,10000] [-runs N]
//
// The first form times two commands and prints the median wall-clock and
// CPU (user+system) time of each and their ratios. The second builds
// stores of each size and prints the table of docs/BENCHMARKS.md ("CLI at
// 1,000 / 10,000 / 100,000 entries"): get, set, rm, mv, import and migrate
// apply against age -d or the floor write (internal/benchcli/floorwrite),
// and the peak RSS of get and set.
package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
)

const usage = `usage: benchcli RUNS NAME-A CMD-A... -- NAME-B CMD-B...
       benchcli table -hush HUSH -age AGE -floor FLOORWRITE -work DIR [-sizes 1000,10000] [-runs N]`

// errUsage is run's answer to arguments of the wrong shape; main prints
// the usage line for it and exits 2.
var errUsage = errors.New("bad arguments")

func main() {
	err := run(os.Args[1:])
	switch {
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "benchcli:", err)
		}
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "benchcli:", err)
		os.Exit(1)
	}
}

// run dispatches on the first argument; it returns errUsage (wrapped) for
// malformed arguments and the first failure otherwise.
func run(args []string) error {
	if len(args) > 0 && args[0] == "table" {
		cfg, err := parseTableFlags(args[1:])
		if err != nil {
			return err
		}
		cfg.progress = os.Stderr
		res, err := runTable(cfg)
		if err != nil {
			return err
		}
		printTable(os.Stdout, res)
		return nil
	}
	return runPair(args)
}

// runPair times the two commands args names and prints the medians; it
// returns errUsage (wrapped) for malformed arguments and the first
// command's failure otherwise.
func runPair(args []string) error {
	if len(args) < 5 {
		return errUsage
	}
	runs, err := strconv.Atoi(args[0])
	if err != nil || runs < 1 {
		return fmt.Errorf("%w: RUNS %q is not a positive number", errUsage, args[0])
	}
	i := slices.Index(args, "--")
	if i < 3 || i > len(args)-3 {
		return errUsage
	}
	a := job{name: args[1], argv: args[2:i]}
	b := job{name: args[i+1], argv: args[i+2:]}
	sa, sb, err := alternate(runs, a, b)
	if err != nil {
		return err
	}
	ma, mb := summarize(sa), summarize(sb)
	fmt.Printf("%-28s wall %7.2f ms  cpu %7.2f ms\n", a.name, ms(ma.wall), ms(ma.cpu))
	fmt.Printf("%-28s wall %7.2f ms  cpu %7.2f ms\n", b.name, ms(mb.wall), ms(mb.cpu))
	fmt.Printf("ratio (median wall): %.2fx   ratio (median cpu): %.2fx\n",
		float64(ma.wall)/float64(mb.wall), float64(ma.cpu)/float64(mb.cpu))
	return nil
}
