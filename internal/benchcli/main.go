// Command benchcli times two commands as whole processes, alternating
// runs, and prints the median wall-clock and CPU (user+system) time of
// each and their ratios. scripts/bench-cli.sh builds it from here to
// compare `hush get` with `age -d`.
//
//	benchcli RUNS NAME-A CMD-A... -- NAME-B CMD-B...
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

const usage = "usage: benchcli RUNS NAME-A CMD-A... -- NAME-B CMD-B..."

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

type sample struct{ wall, cpu time.Duration }

// run times the two commands args names and prints the medians; it
// returns errUsage (wrapped) for malformed arguments and the first
// command's failure otherwise.
func run(args []string) error {
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
	a, b := args[1:i], args[i+1:]
	var sa, sb []sample
	for r := -1; r < runs; r++ { // r == -1 warms both up
		x, err := once(a[1:])
		if err != nil {
			return err
		}
		y, err := once(b[1:])
		if err != nil {
			return err
		}
		if r >= 0 {
			sa, sb = append(sa, x), append(sb, y)
		}
	}
	ma, mb := median(sa), median(sb)
	fmt.Printf("%-28s wall %7.2f ms  cpu %7.2f ms\n", a[0], ms(ma.wall), ms(ma.cpu))
	fmt.Printf("%-28s wall %7.2f ms  cpu %7.2f ms\n", b[0], ms(mb.wall), ms(mb.cpu))
	fmt.Printf("ratio (median wall): %.2fx   ratio (median cpu): %.2fx\n",
		float64(ma.wall)/float64(mb.wall), float64(ma.cpu)/float64(mb.cpu))
	return nil
}

func once(argv []string) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%v: %w", argv, err)
	}
	wall := time.Since(start)
	return sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
}

func median(s []sample) sample {
	w := make([]time.Duration, len(s))
	c := make([]time.Duration, len(s))
	for i, x := range s {
		w[i], c[i] = x.wall, x.cpu
	}
	slices.Sort(w)
	slices.Sort(c)
	return sample{wall: w[len(w)/2], cpu: c[len(c)/2]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
