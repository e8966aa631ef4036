package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

type protocolError string

func (e protocolError) Error() string { return string(e) }

const (
	maxBulk   = 512 << 20
	maxArgs   = 1 << 20
	maxInline = 64 << 10
)

// readCommand reads one command: an array of bulk strings or an inline line.
// Every argument is its own allocation, so commands may keep them as values.
func readCommand(r *bufio.Reader) ([][]byte, error) {
	b, err := r.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] != '*' {
		line, err := readLine(r, "too big inline request", false)
		if err != nil {
			return nil, err
		}
		var args [][]byte
		for _, w := range strings.Fields(string(line)) {
			args = append(args, []byte(w))
		}
		return args, nil
	}
	n, err := readHeader(r, "invalid multibulk length")
	if err != nil {
		return nil, err
	}
	if n > maxArgs {
		return nil, protocolError("invalid multibulk length")
	}
	args := make([][]byte, 0, max(n, 0))
	for i := 0; i < n; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c != '$' {
			return nil, protocolError("expected '$'")
		}
		r.UnreadByte()
		l, err := readHeader(r, "invalid bulk length")
		if err != nil {
			return nil, err
		}
		if l < 0 || l > maxBulk {
			return nil, protocolError("invalid bulk length")
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		if buf[l] != '\r' || buf[l+1] != '\n' {
			return nil, protocolError("bulk string not terminated by CRLF")
		}
		args = append(args, buf[:l])
	}
	return args, nil
}

// readHeader reads a `*n` or `$n` line.
func readHeader(r *bufio.Reader, what string) (int, error) {
	line, err := readLine(r, "too big header line", true)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil {
		return 0, protocolError(what)
	}
	return n, nil
}

// readLine reads up to '\n' without it (and a '\r' before it; required
// when crlf).
func readLine(r *bufio.Reader, tooBig string, crlf bool) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, protocolError(tooBig)
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	} else if crlf {
		return nil, protocolError("expected CRLF")
	}
	return line, nil
}

func writeOK(w *bufio.Writer) { w.WriteString("+OK\r\n") }

func writeError(w *bufio.Writer, msg string) {
	w.WriteByte('-')
	w.WriteString(msg)
	w.WriteString("\r\n")
}

func writeInt(w *bufio.Writer, n int64) {
	w.WriteByte(':')
	w.Write(strconv.AppendInt(w.AvailableBuffer(), n, 10))
	w.WriteString("\r\n")
}

func writeBulk(w *bufio.Writer, b []byte) {
	w.WriteByte('$')
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(b)), 10))
	w.WriteString("\r\n")
	w.Write(b)
	w.WriteString("\r\n")
}

func writeNil(w *bufio.Writer) { w.WriteString("$-1\r\n") }

func writeArrayLen(w *bufio.Writer, n int) {
	w.WriteByte('*')
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(n), 10))
	w.WriteString("\r\n")
}

func upper(b []byte) string { return strings.ToUpper(string(b)) }
func lower(b []byte) string { return strings.ToLower(string(b)) }
