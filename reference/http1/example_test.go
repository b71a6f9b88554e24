package http1_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/reference/http1"
)

func ExampleServer() {
	root, _ := os.MkdirTemp("", "docroot")
	defer os.RemoveAll(root)
	fixture.Write(root)

	s := &http1.Server{Root: root}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(l)
	defer s.Close()

	resp, err := http.Get("http://" + l.Addr().String() + "/hello.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d %s %q\n", resp.StatusCode, resp.Header.Get("ETag"), body)
	// Output: 200 "e-65920080" "Hello, world!\n"
}
