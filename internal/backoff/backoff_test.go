package backoff

import (
	"errors"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	t.Parallel()
	errDown := errors.New("down")
	// steps: "f" a failing call, "s" a succeeding call, "c" a cancelled
	// call, "x" a call that must be refused, "+" the interval passes.
	tests := []struct {
		name  string
		steps string
		open  bool // at the end
	}{
		{"below threshold", "ff", false},
		{"success resets the run", "ffsff", false},
		{"threshold opens, fails fast", "fffxx", true},
		{"cancelled calls are neutral", "ffcccf" + "x", true},
		{"probe after the interval succeeds", "fffx+s", false},
		{"probe fails: open again at once", "fffx+fx", true},
		{"one probe at a time", "fff+P", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			b := &Breaker{Interval: time.Second, Now: func() time.Time { return now }}
			for i, c := range tc.steps {
				switch c {
				case '+':
					now = now.Add(time.Second)
					continue
				case 'P': // a probe in flight refuses a second caller
					p, err := b.Allow()
					if err != nil {
						t.Fatalf("step %d: probe refused: %v", i, err)
					}
					if _, err := b.Allow(); !errors.Is(err, ErrOpen) {
						t.Fatalf("step %d: second caller during the probe allowed", i)
					}
					p.Done(errDown, false)
					continue
				}
				tk, err := b.Allow()
				if c == 'x' {
					if !errors.Is(err, ErrOpen) || !errors.Is(err, errDown) {
						t.Fatalf("step %d: Allow = %v; want ErrOpen wrapping the last failure", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: Allow = %v", i, err)
				}
				switch c {
				case 'f':
					tk.Done(errDown, false)
				case 's':
					tk.Done(nil, false)
				case 'c':
					tk.Done(errDown, true)
				}
			}
			if b.Open() != tc.open {
				t.Fatalf("open = %v; want %v", b.Open(), tc.open)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	b := &Breaker{Interval: -1}
	for range 10 {
		tk, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		tk.Done(errors.New("down"), false)
	}
}

// TestRecordOpened: Record says "opened" once per back-off: when the run
// reaches the threshold, and when a probe fails after the interval, never
// for calls still failing while the breaker refuses.
func TestRecordOpened(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	b := &Breaker{Interval: time.Second, Threshold: 2, Now: func() time.Time { return now }}
	errDown := errors.New("down")
	want := []bool{false, true, false} // two failures open it; a straggler does not reopen
	for i, w := range want {
		if got := b.Record(errDown, false); got != w {
			t.Fatalf("failure %d: opened = %v, want %v", i, got, w)
		}
	}
	now = now.Add(2 * time.Second)
	tk, err := b.Allow()
	if err != nil || !tk.Probe() {
		t.Fatalf("after the interval: %v, probe %v", err, tk.Probe())
	}
	if !tk.Done(errDown, false) {
		t.Fatal("a failed probe did not open the breaker again")
	}
	if b.Record(nil, false); b.Open() {
		t.Fatal("an answer did not close it")
	}
}
