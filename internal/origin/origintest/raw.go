package origintest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// RawRequest sends request, written out by hand ("GET /p HTTP/1.0\r\n\r\n":
// no Host header, which no http.Client would leave out), on a new TCP
// connection to addr and returns the response, its body read in full. The
// test fails when the server does not answer within a minute.
func RawRequest(t testing.TB, addr, request string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("origintest: dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("origintest: write the request: %v", err)
	}
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("origintest: read the response to %q: %v", request, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("origintest: read the body of the response to %q: %v", request, err)
	}
	return resp, string(body)
}
