// go-kv: goro-kv's Go twin for benches/kv.sh, written the way goro-kv is
// (and the way a Go programmer would write it with net and bufio): one
// goroutine per connection, a sharded keyspace under sync.Mutex, a
// goroutine and a channel per subscriber, a ticker-driven sweeper,
// shutdown on SIGINT/SIGTERM through signal.NotifyContext.
//
//	go build -o /tmp/go-kv . && GOMAXPROCS=2 /tmp/go-kv -addr 127.0.0.1:7380
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type server struct {
	db      *db
	broker  *broker
	clients chan struct{} // one token per connection served (the limit)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7380", "address to listen on")
	maxClients := flag.Int("max-clients", 10000, "most connections served at once")
	shards := flag.Int("shards", 64, "shards of the keyspace")
	sweep := flag.Duration("sweep", 100*time.Millisecond, "time between sweeps for expired keys")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "go-kv listening on %s\n", ln.Addr())
	s := &server{db: newDB(*shards), broker: newBroker(), clients: make(chan struct{}, *maxClients)}
	go s.db.sweeper(ctx, *sweep)
	if err := s.serve(ctx, ln); err != nil {
		log.Fatal(err)
	}
}

// serve accepts until ctx is done, then waits for the connections.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	stopAccept := context.AfterFunc(ctx, func() { ln.Close() })
	defer stopAccept()
	var wg sync.WaitGroup
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		select {
		case s.clients <- struct{}{}:
		default:
			conn.Write([]byte("-ERR max number of clients reached\r\n"))
			conn.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-s.clients }()
			s.handle(ctx, conn.(*net.TCPConn))
		})
	}
	wg.Wait()
	return nil
}

// session is one connection's state.
type session struct {
	s    *server
	conn *net.TCPConn
	r    *bufio.Reader
	w    *bufio.Writer
	sub  *subscriber // non-nil from the first SUBSCRIBE on
}

func (s *server) handle(ctx context.Context, conn *net.TCPConn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.CloseRead() })
	defer stop()
	ss := &session{s: s, conn: conn, r: bufio.NewReaderSize(conn, 16<<10), w: bufio.NewWriterSize(conn, 16<<10)}
	defer ss.leavePubsub()
	for {
		args, err := readCommand(ss.r)
		if err != nil {
			var pe protocolError
			if errors.As(err, &pe) {
				writeError(ss.w, "ERR Protocol error: "+string(pe))
				ss.flush()
			}
			return
		}
		if len(args) == 0 {
			continue
		}
		if !ss.dispatch(args) {
			ss.flush()
			return
		}
		// Answer a pipeline with one write: flush once no input is left.
		if ss.r.Buffered() == 0 || ss.w.Buffered() >= 64<<10 {
			if ss.flush() != nil {
				return
			}
		}
	}
}

// flush writes the buffered replies: to the socket, or in pub/sub mode
// through the outbox to the writer goroutine.
func (ss *session) flush() error {
	if ss.sub == nil {
		return ss.w.Flush()
	}
	if ss.w.Buffered() == 0 {
		return nil
	}
	return ss.w.Flush() // the writer wraps the outbox in pub/sub mode
}

// dispatch runs one command; false means close the connection.
func (ss *session) dispatch(args [][]byte) bool {
	name := upper(args[0])
	switch {
	case name == "QUIT":
		ss.w.WriteString("+OK\r\n")
		return false
	case name == "SUBSCRIBE" && len(args) > 1:
		ss.subscribe(args[1:])
	case name == "UNSUBSCRIBE":
		ss.unsubscribe(args[1:])
	case ss.sub != nil && len(ss.sub.channels) > 0:
		if name == "PING" && len(args) <= 2 {
			msg := []byte{}
			if len(args) == 2 {
				msg = args[1]
			}
			writeArrayLen(ss.w, 2)
			writeBulk(ss.w, []byte("pong"))
			writeBulk(ss.w, msg)
		} else {
			writeError(ss.w, fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", lower(args[0])))
		}
	default:
		execute(ss.s, name, args, ss.w)
	}
	return true
}
