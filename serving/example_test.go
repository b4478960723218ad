package serving_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/serving"
	"github.com/patron-crm/patron/training"
)

// Serve the active bundle of a data directory, then ask for an item over REST.
func ExampleServer() {
	dir, _ := os.MkdirTemp("", "patron-example")
	defer os.RemoveAll(dir)
	orders := filepath.Join(dir, "orders.csv")
	os.WriteFile(orders, []byte("order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name\n"+
		"o1,c1,mug,2,3.50,2024-01-02 10:00:00,Red Mug\n"), 0o644)

	reg, _ := registry.Open(filepath.Join(dir, "data"), registry.Options{})
	if _, err := training.Train(context.Background(), reg, training.Config{Orders: orders}); err != nil {
		fmt.Println(err)
		return
	}

	grpcLis, _ := net.Listen("tcp", "127.0.0.1:0")
	httpLis, _ := net.Listen("tcp", "127.0.0.1:0")
	// On loopback, for the example only; a real server takes Keys (serving.LoadKeys).
	srv := serving.New(reg, serving.Options{Logger: slog.New(slog.DiscardHandler), InsecureNoAuth: true})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, grpcLis, httpLis) }()

	// The listeners exist already, so the request waits until Serve has
	// loaded the bundle and accepts it.
	resp, err := http.Get("http://" + httpLis.Addr().String() + "/v1/items/mug")
	if err != nil {
		panic(err)
	}
	var item struct {
		ItemID     string `json:"itemId"`
		Name       string `json:"name"`
		OrderCount string `json:"orderCount"` // int64 is a string in protobuf JSON
		Revenue    float64
	}
	json.NewDecoder(resp.Body).Decode(&item)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, item.ItemID, item.Name, item.OrderCount, item.Revenue)

	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// 200 mug Red Mug 1 7
	// stopped: <nil>
}
