package whocmd

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gowho/gowho/observe/metrics"
	"github.com/gowho/gowho/who"
)

// TestMetricsSurviveReload: one Metrics (one registry) serves every
// generation of a reloading server: a reload registers nothing again
// (no panic, no duplicate series), the counts go on across it, and the
// reloads themselves are counted, a broken file as a failure.
func TestMetricsSurviveReload(t *testing.T) {
	t.Parallel()
	dir := reloadDir(t)
	path := writeConfig(t, dir, reloadConfig(1, false))
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	rh, err := newReloadable(path, slog.New(slog.NewTextHandler(io.Discard, nil)), serveApp, time.Minute, []who.Observer{m}...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rh.Close() })
	get := func(user, pw string) int {
		r := httptest.NewRequest("GET", "/protected", nil)
		r.SetBasicAuth(user, pw)
		w := httptest.NewRecorder()
		rh.ServeHTTP(w, r)
		return w.Code
	}
	if c := get("alice", "wonderland"); c != 200 {
		t.Fatalf("gen 1: alice got %d", c)
	}
	writeConfig(t, dir, reloadConfig(2, false))
	if err := rh.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := get("bob", "builder"); c != 200 {
		t.Fatalf("gen 2: bob got %d", c)
	}
	writeConfig(t, dir, reloadConfig(3, true))
	if err := rh.Reload(context.Background()); err == nil {
		t.Fatal("a broken file reloaded")
	}
	if c := get("bob", "builder"); c != 200 {
		t.Fatalf("after a failed reload: bob got %d", c)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var requests, authOK float64
	reloads := map[string]float64{}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "gowho_requests_total":
			for _, s := range mf.Metric {
				requests += s.GetCounter().GetValue()
			}
		case "gowho_reloads_total":
			for _, s := range mf.Metric {
				reloads[s.Label[0].GetValue()] += s.GetCounter().GetValue()
			}
		case "gowho_plugin_calls_total":
			for _, s := range mf.Metric {
				lv := map[string]string{}
				for _, l := range s.Label {
					lv[l.GetName()] = l.GetValue()
				}
				if lv["plugin"] == "htpasswd" && lv["stage"] == who.StageAuthenticators {
					authOK += s.GetCounter().GetValue()
				}
			}
		}
	}
	if reloads["ok"] != 1 || reloads["fail"] != 1 {
		t.Errorf("reloads counted %v, want ok 1 and fail 1", reloads)
	}
	if requests != 3 || authOK != 3 {
		t.Fatalf("across 2 generations: %v requests, %v htpasswd calls counted, want 3 and 3", requests, authOK)
	}
}
