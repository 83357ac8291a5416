//go:build linux

package httpd

import (
	"net/http"
	"strconv"
	"time"
)

// head builds a response's status line and header fields in b (reset),
// ending with the blank line.
type head struct{ b []byte }

func (h *head) status(date []byte, code int) {
	h.b = append(h.b[:0], "HTTP/1.1 "...)
	h.b = strconv.AppendInt(h.b, int64(code), 10)
	h.b = append(h.b, ' ')
	h.b = append(h.b, http.StatusText(code)...)
	h.b = append(h.b, "\r\nServer: iocphttpd\r\nDate: "...)
	h.b = append(h.b, date...)
	h.b = append(h.b, "\r\n"...)
}

func (h *head) field(name, value string) {
	h.b = append(h.b, name...)
	h.b = append(h.b, ": "...)
	h.b = append(h.b, value...)
	h.b = append(h.b, "\r\n"...)
}

func (h *head) int(name string, v int64) {
	h.b = append(h.b, name...)
	h.b = append(h.b, ": "...)
	h.b = strconv.AppendInt(h.b, v, 10)
	h.b = append(h.b, "\r\n"...)
}

func (h *head) contentRange(r byteRange, size int64) {
	h.b = append(h.b, "Content-Range: bytes "...)
	h.b = strconv.AppendInt(h.b, r.start, 10)
	h.b = append(h.b, '-')
	h.b = strconv.AppendInt(h.b, r.start+r.length-1, 10)
	h.b = append(h.b, '/')
	h.b = strconv.AppendInt(h.b, size, 10)
	h.b = append(h.b, "\r\n"...)
}

func (h *head) end(closing, keepAlive10 bool) {
	switch {
	case closing:
		h.b = append(h.b, "Connection: close\r\n"...)
	case keepAlive10:
		h.b = append(h.b, "Connection: keep-alive\r\n"...)
	}
	h.b = append(h.b, "\r\n"...)
}

// errorBody is the short body of a status response: "404 Not Found\n".
func errorBody(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
}

// httpDate formats a time as HTTP's IMF-fixdate.
func httpDate(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, http.TimeFormat)
}
