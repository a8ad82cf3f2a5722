// etcdbench: the same etcd v3 workloads against any etcd API endpoint, so
// that etcd-server and chronoconf are measured by one client in one run
// (issue 15). Built offline with Debian's Go and clientv3:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run bench/etcd/etcdbench.go \
//	  -endpoint 127.0.0.1:2379 -workload put -clients 64 -seconds 10
//
// Workloads:
//
//	put        Put of distinct keys from -clients goroutines (durable on both servers)
//	range      Range of one key (linearizable, etcd's default)
//	range-old  Range of one key at an old revision (-versions versions written first)
//	watch      -watchers watches on one key, -writes Puts every -interval; delivery
//	           latency from each Put's send to each watcher's receipt
//
// Prints one line: workload, requests per second (or delivery percentiles).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "etcd API address")
	workload := flag.String("workload", "put", "put | range | range-old | watch")
	clients := flag.Int("clients", 64, "concurrent requests (one goroutine each; -conns connections)")
	conns := flag.Int("conns", 8, "gRPC connections the goroutines share")
	seconds := flag.Float64("seconds", 10, "measurement length")
	versions := flag.Int("versions", 1000, "range-old: versions of the key written first")
	watchers := flag.Int("watchers", 1000, "watch: watchers")
	writes := flag.Int("writes", 200, "watch: Puts")
	interval := flag.Duration("interval", 20*time.Millisecond, "watch: time between Puts")
	flag.Parse()

	var cs []*clientv3.Client
	for i := 0; i < *conns; i++ {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("bench/%d/", time.Now().UnixNano())
	switch *workload {
	case "put":
		n := load(*clients, *seconds, func(g, i int) error {
			_, err := cs[g%len(cs)].Put(ctx, prefix+strconv.Itoa(g)+"/"+strconv.Itoa(i), "v")
			return err
		})
		fmt.Printf("put clients=%d %.0f req/s\n", *clients, n)
	case "range", "range-old":
		key := prefix + "k"
		var first int64
		for i := 0; i < *versions; i++ {
			r, err := cs[0].Put(ctx, key, strconv.Itoa(i))
			if err != nil {
				log.Fatal(err)
			}
			if i == 1 {
				first = r.Header.Revision
			}
			if *workload == "range" {
				break
			}
		}
		var opts []clientv3.OpOption
		if *workload == "range-old" {
			opts = append(opts, clientv3.WithRev(first))
		}
		n := load(*clients, *seconds, func(g, i int) error {
			_, err := cs[g%len(cs)].Get(ctx, key, opts...)
			return err
		})
		fmt.Printf("%s clients=%d %.0f req/s\n", *workload, *clients, n)
	case "watch":
		key := prefix + "w"
		var mu sync.Mutex
		var lat []time.Duration
		sent := make([]time.Time, *writes+1)
		var ready sync.WaitGroup
		var done sync.WaitGroup
		for w := 0; w < *watchers; w++ {
			ready.Add(1)
			done.Add(1)
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			ch := cs[w%len(cs)].Watch(wctx, key, clientv3.WithCreatedNotify())
			go func() {
				defer done.Done()
				<-ch // created
				ready.Done()
				got := 0
				for resp := range ch {
					now := time.Now()
					for _, e := range resp.Events {
						i, _ := strconv.Atoi(string(e.Kv.Value))
						mu.Lock()
						lat = append(lat, now.Sub(sent[i]))
						mu.Unlock()
						got++
					}
					if got >= *writes {
						return
					}
				}
			}()
		}
		ready.Wait()
		for i := 1; i <= *writes; i++ {
			mu.Lock()
			sent[i] = time.Now()
			mu.Unlock()
			if _, err := cs[0].Put(ctx, key, strconv.Itoa(i)); err != nil {
				log.Fatal(err)
			}
			time.Sleep(*interval)
		}
		waited := make(chan struct{})
		go func() { done.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second):
			log.Printf("not every watcher saw every Put")
		}
		sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
		}
		fmt.Printf("watch watchers=%d deliveries=%d p50=%.2fms p99=%.2fms max=%.2fms\n",
			*watchers, len(lat), pct(0.5), pct(0.99), pct(1))
	default:
		log.Fatalf("unknown workload %q", *workload)
	}
}

// load runs f from `clients` goroutines for `seconds` and returns completed
// requests per second (an error stops the run).
func load(clients int, seconds float64, f func(g, i int) error) float64 {
	var n int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := f(g, i); err != nil {
					log.Fatal(err)
				}
				atomic.AddInt64(&n, 1)
			}
		}(g)
	}
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	close(stop)
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
