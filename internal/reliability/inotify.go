package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// dirWatch reports writes in a directory (a file created, modified or
// renamed into it) through inotify, so the kill part can aim its kills at the
// write window instead of at random moments of the whole process.
type dirWatch struct {
	f      *os.File
	events chan time.Time
}

// watchDir watches dir until Close.
func watchDir(dir string) (*dirWatch, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MODIFY|syscall.IN_MOVED_TO); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("inotify_add_watch", err)
	}
	w := &dirWatch{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan time.Time, 4096)}
	go func() {
		defer close(w.events)
		buf := make([]byte, 64<<10)
		for {
			n, err := w.f.Read(buf) // the runtime poller: Close unblocks it
			if err != nil {
				return
			}
			if n > 0 {
				select {
				case w.events <- time.Now():
				default:
				}
			}
		}
	}()
	return w, nil
}

// drain discards pending events.
func (w *dirWatch) drain() {
	for {
		select {
		case <-w.events:
		default:
			return
		}
	}
}

// Close stops the watch.
func (w *dirWatch) Close() error { return w.f.Close() }

// calibrate times n unkilled runs of a command: run(i) runs the i-th and
// returns its result. It returns the median run time and the median write
// window (from the first change w saw in the directory to the command's
// exit), which the kill loops aim at. A failed run is an error.
func (w *dirWatch) calibrate(n int, run func(i int) (result, error)) (median, window time.Duration, err error) {
	var durs, windows []time.Duration
	for i := 0; i < n; i++ {
		w.drain()
		r, err := run(i)
		if err != nil {
			return 0, 0, err
		}
		if r.code != 0 {
			return 0, 0, fmt.Errorf("calibration: %v: %s", r, r.stderr)
		}
		end := time.Now()
		durs = append(durs, r.dur)
		select {
		case t := <-w.events:
			windows = append(windows, end.Sub(t))
		default:
		}
	}
	return percentile(durs, 50), percentile(windows, 50), nil
}
