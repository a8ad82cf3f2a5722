// A Go clientv3 (etcd 3.4, as Debian ships it) against chronoconf's etcd API:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run examples/etcd/put_get.go 127.0.0.1:2379
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc/metadata"
)

func main() {
	endpoint := "127.0.0.1:2379"
	if len(os.Args) > 1 {
		endpoint = os.Args[1]
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// Who and why travel as gRPC metadata and land in the audit log.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-actor", "deploy-bot", "x-reason", "roll%20out%20v2")
	if _, err := c.Put(ctx, "app/version", "v2"); err != nil {
		log.Fatal(err)
	}
	r, err := c.Get(ctx, "app/version")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s at revision %d\n", r.Kvs[0].Value, r.Header.Revision)
}
