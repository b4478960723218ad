package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// Soak (issue 6, "Reliability"): steady REST and gRPC load on `patron serve`
// while `patron train` publishes and activates a new bundle again and again,
// on loopback, for a bounded time. It passes when no request fails (unknown
// ids answering NOT_FOUND are expected) and the server's memory does not
// grow: the mean RSS of the last quarter of the run is compared with the
// second quarter's (the first is warm-up).

type soakResult struct {
	Seconds      float64   `json:"seconds"`
	Published    int       `json:"bundles_published"`
	FirstVersion int64     `json:"first_version"`
	LastVersion  int64     `json:"last_version"`
	REST         runResult `json:"rest"`
	GRPC         runResult `json:"grpc"`
	RSSMiB       []float64 `json:"rss_mib"` // one sample a second
	Q2MeanMiB    float64   `json:"second_quarter_mean_mib"`
	Q4MeanMiB    float64   `json:"last_quarter_mean_mib"`
	MaxMiB       float64   `json:"max_mib"`
}

func runSoak(ctx context.Context, cfg config, e *env) error {
	p, err := startPatron(ctx, e, false)
	if err != nil {
		return err
	}
	defer p.stop()
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	res := soakResult{FirstVersion: activeVersion(p.httpAddr)}
	ctx, cancel := context.WithTimeout(ctx, cfg.soak+time.Minute)
	defer cancel()

	done := make(chan struct{})
	var wg sync.WaitGroup
	// Publisher: train and activate, again and again.
	var publishErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(cfg.soakEvery):
			}
			out, err := exec.CommandContext(ctx, e.patronBin, "train", "--orders", cfg.orders, "--data-dir", e.dataDir, "--keep", "3").CombinedOutput()
			if err != nil {
				publishErr = fmt.Errorf("patron train during the soak: %w\n%s", err, out)
				return
			}
			res.Published++
			logf("soak: published bundle %d", activeVersion(p.httpAddr))
		}
	}()
	// Memory sampler.
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			if rss, _, err := rssKB(p.cmd.Process.Pid); err == nil {
				mu.Lock()
				res.RSSMiB = append(res.RSSMiB, float64(rss)/1024)
				mu.Unlock()
			}
		}
	}()
	// Load: REST recommendations and gRPC churn at the same time.
	var lw sync.WaitGroup
	lw.Add(2)
	go func() {
		defer lw.Done()
		res.REST = load(ctx, restCaller(urls(p.httpAddr, e.ids), cfg.soakConc), e.unknown, cfg.soakConc, cfg.soak)
	}()
	go func() {
		defer lw.Done()
		res.GRPC = load(ctx, grpcCaller(patronv1.NewCustomerServiceClient(conn), e.ids), e.unknown, cfg.soakConc, cfg.soak)
	}()
	lw.Wait()
	close(done)
	wg.Wait()
	res.Seconds = cfg.soak.Seconds()
	res.LastVersion = activeVersion(p.httpAddr)
	if publishErr != nil {
		return publishErr
	}
	n := len(res.RSSMiB)
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(max(1, len(x)))
	}
	if n >= 4 {
		res.Q2MeanMiB, res.Q4MeanMiB = mean(res.RSSMiB[n/4:n/2]), mean(res.RSSMiB[3*n/4:])
	}
	for _, v := range res.RSSMiB {
		res.MaxMiB = max(res.MaxMiB, v)
	}
	if cfg.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf("soak %s, concurrency %d per protocol, a new bundle every %s: %d published (v%d -> v%d)\n",
		cfg.soak, cfg.soakConc, cfg.soakEvery, res.Published, res.FirstVersion, res.LastVersion)
	fmt.Printf("  REST recommendations: %d requests, %.0f req/s, p99 %.2f ms, errors %d\n", res.REST.Requests, res.REST.RPS, res.REST.P99ms, res.REST.Errors)
	fmt.Printf("  gRPC churn:           %d requests, %.0f req/s, p99 %.2f ms, errors %d (NOT_FOUND for unknown ids %d)\n",
		res.GRPC.Requests, res.GRPC.RPS, res.GRPC.P99ms, res.GRPC.Errors, res.GRPC.NotFound)
	fmt.Printf("  RSS: second quarter %.1f MiB, last quarter %.1f MiB, max %.1f MiB\n", res.Q2MeanMiB, res.Q4MeanMiB, res.MaxMiB)
	if res.REST.Errors+res.GRPC.Errors > 0 {
		return fmt.Errorf("soak: %d failed requests", res.REST.Errors+res.GRPC.Errors)
	}
	return nil
}

// activeVersion asks the server which bundle it serves (0 when it cannot tell).
func activeVersion(httpAddr string) int64 {
	resp, err := http.Get("http://" + httpAddr + "/v1/models/active")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var m struct {
		Version string `json:"version"`
	}
	if json.NewDecoder(resp.Body).Decode(&m) != nil {
		return 0
	}
	var v int64
	fmt.Sscan(m.Version, &v)
	return v
}
