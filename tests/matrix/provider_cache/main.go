// provider-cache runs a Terraform provider in debug mode behind a gRPC proxy that answers a
// repeated call of a pure method from memory.
//
// Usage: provider-cache PROVIDER_BINARY [ARGUMENT...]
//
// It starts the provider, reads the TF_REATTACH_PROVIDERS line the provider prints, listens on
// a socket of its own and prints the same line with that socket as the address, so Terraform
// attaches to the proxy. Every call is forwarded to the provider unchanged (streams included),
// except the methods in `cached`: their answer is a function of the request's bytes alone for
// one provider process (its binary and environment are fixed), so the first answer to given
// bytes is kept and returned for the same bytes again (and, for the resource types the caller
// names, the validation and plan of a resource under the same provider configuration:
// pure_types.go). The AWS provider's answer to
// PrepareProviderConfig (ValidateProviderConfig in later protocol versions) runs
// InternalValidate over every resource schema, about 2.5 CPU-s, and Terraform asks twice per
// plan; GetSchema rebuilds the schema of thousands of resources. Failed calls are not kept.
//
// After every cached method's call it writes the counts so far to stderr, one line starting
// with countsMarker (JSON: per method, the calls the provider answered, the calls answered from
// memory, and the seconds the provider took for those it answered). SIGINT or
// SIGTERM is passed to the provider; the proxy exits when the provider does, with its status.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

const (
	reattachMarker = "TF_REATTACH_PROVIDERS='"
	countsMarker   = "provider-cache counts: "
)

// Pure functions of the request for one provider process.
var cached = map[string]bool{
	"/tfplugin5.Provider/GetSchema":              true,
	"/tfplugin5.Provider/PrepareProviderConfig":  true,
	"/tfplugin6.Provider/GetProviderSchema":      true,
	"/tfplugin6.Provider/ValidateProviderConfig": true,
}

// frame is a message as bytes: the proxy neither decodes nor re-encodes what it forwards.
type frame struct{ payload []byte }

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*frame).payload, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*frame).payload = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

type counts struct {
	Ran          int     `json:"ran"`
	Reused       int     `json:"reused"`
	ProviderSecs float64 `json:"provider_seconds"`
}

type proxy struct {
	upstream *grpc.ClientConn
	mu       sync.Mutex
	answers  map[string][]byte
	stats    map[string]*counts
	// The last configuration request (Configure, ConfigureProvider) the provider received.
	configured []byte
	// Resource types whose per-resource answers are kept (pure_types.go).
	pure map[string]bool
}

func (p *proxy) handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	incoming, _ := metadata.FromIncomingContext(stream.Context())
	ctx := metadata.NewOutgoingContext(stream.Context(), incoming.Copy())
	switch {
	case cached[method]:
		return p.unaryCached(ctx, method, stream)
	case configureMethods[method]:
		return p.configure(ctx, method, stream)
	case perTypeMethods[method] && len(p.pure) > 0:
		return p.perType(ctx, method, stream)
	}
	return p.forward(ctx, method, stream)
}

func (p *proxy) unaryCached(ctx context.Context, method string, stream grpc.ServerStream) error {
	request := &frame{}
	if err := stream.RecvMsg(request); err != nil {
		return err
	}
	answer, err := p.answer(ctx, method, method+"\x00"+string(request.payload), request)
	if err != nil {
		return err
	}
	if schemaMethods[method] {
		if wanted, ok := wantedTypes(); ok {
			filtered, err := filterSchema(answer, wanted)
			if err != nil {
				return err
			}
			answer = filtered
		}
	}
	return stream.SendMsg(&frame{answer})
}

// answer is the kept answer for key, or the provider's (then kept, unless the call failed).
func (p *proxy) answer(ctx context.Context, method, key string, request *frame) ([]byte, error) {
	p.mu.Lock()
	answer, found := p.answers[key]
	if found {
		p.count(method, true, 0)
	}
	p.mu.Unlock()
	if found {
		return answer, nil
	}
	started := time.Now()
	response := &frame{}
	if err := p.upstream.Invoke(ctx, method, request, response); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.answers[key] = response.payload
	p.count(method, false, time.Since(started).Seconds())
	p.mu.Unlock()
	return response.payload, nil
}

// configure forwards a configuration request and remembers its bytes: the provider's
// configured state, which the per-resource answers of pure types are keyed on.
func (p *proxy) configure(ctx context.Context, method string, stream grpc.ServerStream) error {
	request := &frame{}
	if err := stream.RecvMsg(request); err != nil {
		return err
	}
	p.mu.Lock()
	p.configured = request.payload
	p.mu.Unlock()
	response := &frame{}
	if err := p.upstream.Invoke(ctx, method, request, response); err != nil {
		return err
	}
	return stream.SendMsg(response)
}

// perType answers a per-resource call: kept under its configuration for a pure type
// (pure_types.go), forwarded for any other.
func (p *proxy) perType(ctx context.Context, method string, stream grpc.ServerStream) error {
	request := &frame{}
	if err := stream.RecvMsg(request); err != nil {
		return err
	}
	if name, ok := typeName(request.payload); ok && p.pure[name] {
		p.mu.Lock()
		key := pureKey(method, p.configured, request.payload)
		p.mu.Unlock()
		answer, err := p.answer(ctx, method, key, request)
		if err != nil {
			return err
		}
		return stream.SendMsg(&frame{answer})
	}
	response := &frame{}
	if err := p.upstream.Invoke(ctx, method, request, response); err != nil {
		return err
	}
	return stream.SendMsg(response)
}

// count records one call (p.mu held) and writes the counts so far to stderr, one line.
func (p *proxy) count(method string, reused bool, seconds float64) {
	slot := p.stats[method]
	if slot == nil {
		slot = &counts{}
		p.stats[method] = slot
	}
	if reused {
		slot.Reused++
	} else {
		slot.Ran++
		slot.ProviderSecs += seconds
	}
	if data, err := json.Marshal(p.stats); err == nil {
		fmt.Fprintf(os.Stderr, "%s%s\n", countsMarker, data)
	}
}

// forward relays one call of any kind (unary or streaming) both ways until both ends are done.
func (p *proxy) forward(ctx context.Context, method string, stream grpc.ServerStream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client, err := p.upstream.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	fromClient := make(chan error, 1)
	go func() {
		for {
			message := &frame{}
			if err := stream.RecvMsg(message); err != nil {
				if errors.Is(err, io.EOF) {
					fromClient <- client.CloseSend()
				} else {
					fromClient <- err
				}
				return
			}
			if err := client.SendMsg(message); err != nil {
				fromClient <- err
				return
			}
		}
	}()
	fromProvider := make(chan error, 1)
	go func() {
		if header, err := client.Header(); err == nil {
			_ = stream.SendHeader(header)
		}
		for {
			message := &frame{}
			if err := client.RecvMsg(message); err != nil {
				stream.SetTrailer(client.Trailer())
				if errors.Is(err, io.EOF) {
					err = nil
				}
				fromProvider <- err
				return
			}
			if err := stream.SendMsg(message); err != nil {
				fromProvider <- err
				return
			}
		}
	}()
	for {
		select {
		case err := <-fromProvider:
			return err // the provider's status (nil when it ended the call normally)
		case err := <-fromClient:
			if err != nil {
				return err
			}
			fromClient = nil // the caller has sent everything; wait for the answer
		}
	}
}

// attach reads the provider's reattach line, connects to the provider's socket, starts serving
// on a socket of its own and returns the provider's socket address.
func attach(line string, p *proxy, socket string) (string, error) {
	start := strings.Index(line, reattachMarker) + len(reattachMarker)
	end := strings.LastIndex(line, "'")
	if end <= start {
		return "", fmt.Errorf("no reattach configuration in %q", line)
	}
	var providers map[string]map[string]any
	if err := json.Unmarshal([]byte(line[start:end]), &providers); err != nil {
		return "", err
	}
	var upstream string
	for _, provider := range providers {
		address, _ := provider["Addr"].(map[string]any)
		if address == nil || address["Network"] != "unix" {
			return "", fmt.Errorf("not a unix socket: %v", provider["Addr"])
		}
		if upstream != "" && address["String"] != upstream {
			return "", fmt.Errorf("several provider addresses in %q", line)
		}
		upstream, _ = address["String"].(string)
	}
	if upstream == "" {
		return "", fmt.Errorf("no provider in %q", line)
	}
	connection, err := grpc.NewClient("unix://"+upstream,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}),
			grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		return "", err
	}
	p.upstream = connection
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return "", err
	}
	server := grpc.NewServer(grpc.UnknownServiceHandler(p.handle), grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(1<<30), grpc.MaxSendMsgSize(1<<30))
	go func() { _ = server.Serve(listener) }()
	return upstream, nil
}

func main() {
	// The provider's parent-death signal follows the thread that started it: start it from
	// the main thread, which lives as long as the process.
	runtime.LockOSThread()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: provider-cache PROVIDER_BINARY [ARGUMENT...]")
		os.Exit(2)
	}
	folder, err := os.MkdirTemp("", "provider-cache-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(folder)
	provider := exec.Command(os.Args[1], os.Args[2:]...)
	provider.Stderr = os.Stderr
	// Killed with the proxy, however the proxy ends (its watchdog only sees the proxy).
	provider.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	output, err := provider.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := provider.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "provider-cache:", err)
		os.Exit(1)
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for received := range signals {
			_ = provider.Process.Signal(received)
		}
	}()
	p := &proxy{answers: map[string][]byte{}, stats: map[string]*counts{}, pure: pureTypes()}
	socket := filepath.Join(folder, "provider.sock")
	upstream := ""
	copied := make(chan struct{})
	go func() {
		// Every line passes through, the provider's socket replaced by the proxy's.
		defer close(copied)
		reader := bufio.NewReader(output)
		for {
			line, err := reader.ReadString('\n')
			if upstream == "" && strings.Contains(line, reattachMarker) {
				if upstream, err = attach(line, p, socket); err != nil {
					fmt.Fprintln(os.Stderr, "provider-cache:", err)
					_ = provider.Process.Kill()
					return
				}
			}
			if upstream != "" {
				line = strings.ReplaceAll(line, upstream, socket)
			}
			fmt.Print(line)
			if err != nil {
				return
			}
		}
	}()
	<-copied
	err = provider.Wait()
	status := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
		if status < 0 {
			status = 1
		}
	} else if err != nil {
		status = 1
	}
	os.RemoveAll(folder)
	os.Exit(status)
}
