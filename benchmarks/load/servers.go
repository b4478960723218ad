package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// idMixLen is the length of the pre-drawn customer id sequence the workers
// walk through (each from its own offset), so drawing ids costs nothing
// during the measured runs.
const idMixLen = 1 << 16

// env is what every mode shares: the binaries, the trained data directory and
// the customer id mix.
type env struct {
	self      string // this binary, re-executed with -bare-server
	patronBin string
	dataDir   string
	tmp       string
	ids       []string // the request mix: known ids weighted by orders, and unknown ids
	unknown   []bool   // unknown[i]: ids[i] is not in the bundle
	known     int      // customers in the bundle
}

// prepare builds patron, trains the bundle (unless --data-dir names one),
// and draws the customer id mix from the bundle's customers.
func prepare(ctx context.Context, cfg config, tmp string) (*env, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable (needed to start the bare servers): %w", err)
	}
	e := &env{self: self, patronBin: cfg.patronBin, dataDir: cfg.dataDir, tmp: tmp}
	if e.patronBin == "" {
		e.patronBin = filepath.Join(tmp, "patron")
		logf("building ./cmd/patron ...")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", e.patronBin, "./cmd/patron").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/patron (run from the repository root, or pass --patron-bin): %w\n%s", err, out)
		}
	}
	if e.dataDir == "" {
		e.dataDir = filepath.Join(tmp, "data")
		logf("training on %s into %s ...", cfg.orders, e.dataDir)
		cmd := exec.CommandContext(ctx, e.patronBin, "train", "--orders", cfg.orders, "--data-dir", e.dataDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("patron train --orders %s: %w\n%s", cfg.orders, err, out)
		}
	}
	out, err := exec.CommandContext(ctx, e.patronBin, "export", "customers", "--data-dir", e.dataDir, "--format", "csv").Output()
	if err != nil {
		return nil, fmt.Errorf("patron export customers --data-dir %s: %w", e.dataDir, err)
	}
	ids, orders, err := readCustomers(out)
	if err != nil {
		return nil, err
	}
	e.known = len(ids)
	e.ids, e.unknown = drawMix(ids, orders, cfg.unknownFrac, cfg.seed)
	logf("customer mix: %d known customers weighted by orders, %.0f%% unknown ids", e.known, 100*cfg.unknownFrac)
	return e, nil
}

// readCustomers parses `patron export customers` CSV: id and order count.
func readCustomers(data []byte) (ids []string, orders []int, err error) {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read exported customers: %w", err)
	}
	idCol, ordCol := -1, -1
	for i, h := range header {
		switch h {
		case "customer_id":
			idCol = i
		case "order_count":
			ordCol = i
		}
	}
	if idCol < 0 || ordCol < 0 {
		return nil, nil, fmt.Errorf("exported customers: header %v lacks customer_id or order_count", header)
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("exported customers line %d: %w", line, err)
		}
		n, err := strconv.Atoi(rec[ordCol])
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("exported customers line %d field order_count: %q is not a positive count", line, rec[ordCol])
		}
		ids = append(ids, rec[idCol])
		orders = append(orders, n)
	}
	if len(ids) == 0 {
		return nil, nil, errors.New("the bundle has no customers")
	}
	return ids, orders, nil
}

// drawMix draws idMixLen request ids: with probability unknownFrac a fresh
// id the bundle does not know (a first-time visitor), otherwise a known
// customer with probability proportional to their number of orders, so
// frequent customers are asked about most, as on a storefront.
func drawMix(ids []string, orders []int, unknownFrac float64, seed int64) ([]string, []bool) {
	cum := make([]int, len(orders))
	total := 0
	for i, n := range orders {
		total += n
		cum[i] = total
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x10ad))
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	mix := make([]string, idMixLen)
	unk := make([]bool, idMixLen)
	for i := range mix {
		if rng.Float64() < unknownFrac {
			id := fmt.Sprintf("new%07d", rng.IntN(10_000_000))
			for known[id] {
				id = fmt.Sprintf("new%07d", rng.IntN(10_000_000))
			}
			mix[i], unk[i] = id, true
			continue
		}
		k := sort.SearchInts(cum, rng.IntN(total)+1)
		mix[i] = ids[k]
	}
	return mix, unk
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// server is one started subprocess and its addresses.
type server struct {
	cmd      *exec.Cmd
	httpAddr string
	grpcAddr string
	log      string
}

// startServer runs name args..., under `taskset -c 0` when pinned, with its
// output in logFile.
func startServer(ctx context.Context, pinned bool, logFile string, name string, args ...string) (*exec.Cmd, error) {
	if pinned {
		args = append([]string{"-c", "0", name}, args...)
		name = "taskset"
	}
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { cmd.Wait(); f.Close() }()
	return cmd, nil
}

// startPatron starts `patron serve` on two free loopback ports and waits for
// /readyz.
func startPatron(ctx context.Context, e *env, pinned bool) (*server, error) {
	s := &server{log: filepath.Join(e.tmp, "patron-serve.log")}
	var err error
	if s.httpAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.grpcAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	s.cmd, err = startServer(ctx, pinned, s.log, e.patronBin, "serve", "--data-dir", e.dataDir,
		"--insecure-no-auth", "--grpc-addr", s.grpcAddr, "--http-addr", s.httpAddr)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+s.httpAddr+"/readyz", s); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startBare starts this binary as the bare net/http and gRPC server, serving
// the given fixed JSON body and churn message.
func startBare(ctx context.Context, e *env, pinned bool, body []byte, churn *patronv1.CustomerChurn) (*server, error) {
	s := &server{log: filepath.Join(e.tmp, "bare.log")}
	bodyFile := filepath.Join(e.tmp, "bare-body.json")
	churnFile := filepath.Join(e.tmp, "bare-churn.pb")
	pb, err := proto.Marshal(churn)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(churnFile, pb, 0o600); err != nil {
		return nil, err
	}
	if s.httpAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.grpcAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	s.cmd, err = startServer(ctx, pinned, s.log, e.self, "-bare-server", "-http", s.httpAddr, "-grpc", s.grpcAddr,
		"-body", bodyFile, "-churn", churnFile)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+s.httpAddr+"/v1/customers/x/recommendations", s); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitHTTP polls url until it answers 200, the server exits, or 60 s pass.
func waitHTTP(ctx context.Context, url string, s *server) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s.cmd.ProcessState != nil {
			break
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	logText, _ := os.ReadFile(s.log)
	return fmt.Errorf("server %s did not become ready at %s; its log:\n%s", s.cmd.Path, url, logText)
}

// stop interrupts the server (graceful shutdown) and waits for it.
func (s *server) stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	deadline := time.Now().Add(10 * time.Second)
	for s.cmd.ProcessState == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
	}
}

// rssKB reads VmRSS and VmHWM (peak) of pid from /proc, in KiB.
func rssKB(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm, nil
}

// sampleBodies fetches, from the running Patron, the recommendations JSON and
// the churn message of each of ids (known customers of the mix) and returns
// the median-sized of each: the bare servers return these fixed, so both
// sides send bodies of a typical size.
func sampleBodies(ctx context.Context, p *server, ids []string) ([]byte, *patronv1.CustomerChurn, error) {
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	client := patronv1.NewCustomerServiceClient(conn)
	var bodies [][]byte
	var churns []*patronv1.CustomerChurn
	for _, id := range ids {
		resp, err := http.Get("http://" + p.httpAddr + "/v1/customers/" + url.PathEscape(id) + "/recommendations?limit=10")
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("sample recommendations of %s: status %d, %v", id, resp.StatusCode, err)
		}
		bodies = append(bodies, body)
		churn, err := client.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{CustomerId: id})
		if err != nil {
			return nil, nil, fmt.Errorf("sample churn of %s: %w", id, err)
		}
		churns = append(churns, churn)
	}
	if len(bodies) == 0 {
		return nil, nil, errors.New("no known customer in the id mix")
	}
	sort.Slice(bodies, func(i, j int) bool { return len(bodies[i]) < len(bodies[j]) })
	sort.Slice(churns, func(i, j int) bool { return proto.Size(churns[i]) < proto.Size(churns[j]) })
	return bodies[len(bodies)/2], churns[len(churns)/2], nil
}

// bareChurnServer answers every GetCustomerChurn with one fixed message: the
// baseline cost of a gRPC unary call of that size, not a model of Patron.
type bareChurnServer struct {
	patronv1.UnimplementedCustomerServiceServer
	churn *patronv1.CustomerChurn
}

func (b *bareChurnServer) GetCustomerChurn(context.Context, *patronv1.GetCustomerChurnRequest) (*patronv1.CustomerChurn, error) {
	return b.churn, nil
}

// bareRecommendations is the unused other half of the baseline gRPC server,
// kept so the bare server exposes the same services a client would dial.
type bareRecommendations struct {
	patronv1.UnimplementedRecommendationServiceServer
}

// runBareServer is the -bare-server mode: a plain net/http server writing a
// fixed JSON body for every request and a plain gRPC server (no interceptors)
// answering churn with a fixed message, until interrupted.
func runBareServer(args []string) error {
	fs := flag.NewFlagSet("bare-server", flag.ContinueOnError)
	httpAddr := fs.String("http", "", "HTTP address")
	grpcAddr := fs.String("grpc", "", "gRPC address")
	bodyFile := fs.String("body", "", "JSON body file")
	churnFile := fs.String("churn", "", "binary CustomerChurn file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	pb, err := os.ReadFile(*churnFile)
	if err != nil {
		return err
	}
	churn := &patronv1.CustomerChurn{}
	if err := proto.Unmarshal(pb, churn); err != nil {
		return fmt.Errorf("read %s: %w", *churnFile, err)
	}
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return err
	}
	gl, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		return err
	}
	contentLen := strconv.Itoa(len(body))
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", contentLen)
		w.Write(body)
	})}
	gs := grpc.NewServer()
	patronv1.RegisterCustomerServiceServer(gs, &bareChurnServer{churn: churn})
	patronv1.RegisterRecommendationServiceServer(gs, &bareRecommendations{})
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(hl) }()
	go func() { errc <- gs.Serve(gl) }()
	ctx, stop := signalContext()
	defer stop()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	gs.GracefulStop()
	return nil
}
