package respwriter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// owner records Start and answers when answer is set.
type owner struct {
	rw      *Writer
	answer  bool
	started []int
	hijack  int
}

func (o *owner) Start(status int) bool {
	o.started = append(o.started, status)
	if !o.answer {
		return false
	}
	o.rw.RestoreHeader()
	o.rw.Unwrap().Header().Set("X-Owner", "1")
	o.rw.Unwrap().WriteHeader(http.StatusTeapot)
	return true
}

func (o *owner) Hijacked() { o.hijack++ }

func TestWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		answer      bool
		handler     func(w http.ResponseWriter)
		wantStatus  int // 0: not checked (the recorder keeps a 1xx as its Code)
		wantBody    string
		wantStarted []int
	}{
		{"write starts at 200", false, func(w http.ResponseWriter) { _, _ = w.Write([]byte("a")) }, 200, "a", []int{200}},
		{"status passed on", false, func(w http.ResponseWriter) { w.WriteHeader(204) }, 204, "", []int{204}},
		{"1xx starts nothing", false, func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 0, "", []int{201}},
		{"finish without writing", false, func(http.ResponseWriter) {}, 200, "", []int{200}},
		{"answered: handler discarded", true, func(w http.ResponseWriter) {
			w.Header().Set("X-App", "1")
			w.WriteHeader(401)
			_, _ = w.Write([]byte("private"))
			w.Header().Set("X-Late", "1")
			w.(http.Flusher).Flush()
		}, http.StatusTeapot, "", []int{401}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			rec.Header().Set("X-Outer", "kept")
			var rw Writer
			o := &owner{rw: &rw, answer: tc.answer}
			rw.Reset(rec, o)
			tc.handler(&rw)
			rw.Finish()
			if tc.wantStatus != 0 && rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tc.wantStatus, tc.wantBody)
			}
			if fmt.Sprint(o.started) != fmt.Sprint(tc.wantStarted) {
				t.Errorf("Start calls %v, want %v", o.started, tc.wantStarted)
			}
			if rec.Header().Get("X-Outer") != "kept" {
				t.Errorf("the header set before Reset is gone: %v", rec.Header())
			}
			if tc.answer && (rec.Header().Get("X-App") != "" || rec.Header().Get("X-Late") != "") {
				t.Errorf("the handler's headers reached an answered response: %v", rec.Header())
			}
		})
	}
}

// TestHijackFailedLeavesResponse: a Hijack that fails (the recorder cannot
// hijack, as HTTP/2) neither tells the owner nor starts the response.
func TestHijackFailedLeavesResponse(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	var rw Writer
	o := &owner{rw: &rw}
	rw.Reset(rec, o)
	if _, _, err := rw.Hijack(); err == nil {
		t.Fatal("Hijack on a recorder succeeded")
	}
	if o.hijack != 0 || rw.Started() {
		t.Errorf("after a failed Hijack: %d Hijacked calls, started %v", o.hijack, rw.Started())
	}
}

// TestSnapshot: Restore brings back exactly what Take saw, past the inline
// fields, whatever was set, added or removed in between.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, inlineFields, inlineFields + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := http.Header{}
			for i := range n {
				h.Add(fmt.Sprintf("X-H%d", i), "a")
				h.Add(fmt.Sprintf("X-H%d", i), "b")
			}
			want := h.Clone()
			var s Snapshot
			s.Take(h)
			h.Set("X-New", "1")
			h.Add("X-H0", "c")
			h.Del("X-H1")
			s.Restore(h)
			if fmt.Sprint(h) != fmt.Sprint(want) {
				t.Errorf("restored %v, want %v", h, want)
			}
			h.Add("X-H0", "d") // restored values are copies: the next Restore is unchanged
			s.Restore(h)
			if fmt.Sprint(h) != fmt.Sprint(want) {
				t.Errorf("second restore %v, want %v", h, want)
			}
		})
	}
}
