package main

import (
	"bufio"
	"bytes"
	"net"
	"slices"
	"sort"
	"sync"
)

const outboxFrames = 1024

// broker maps channel names to subscribers' outboxes.
type broker struct {
	mu       sync.RWMutex
	channels map[string]map[*subscriber]struct{}
}

func newBroker() *broker { return &broker{channels: map[string]map[*subscriber]struct{}{}} }

func (b *broker) subscribe(ch string, s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.channels[ch] == nil {
		b.channels[ch] = map[*subscriber]struct{}{}
	}
	b.channels[ch][s] = struct{}{}
}

func (b *broker) unsubscribe(ch string, s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.channels[ch], s)
	if len(b.channels[ch]) == 0 {
		delete(b.channels, ch)
	}
}

// publish sends the message frame to every subscriber; how many got it.
func (b *broker) publish(ch, payload []byte) int {
	b.mu.RLock()
	var targets []*subscriber
	for s := range b.channels[string(ch)] {
		targets = append(targets, s)
	}
	b.mu.RUnlock()
	if len(targets) == 0 {
		return 0
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeArrayLen(w, 3)
	writeBulk(w, []byte("message"))
	writeBulk(w, ch)
	writeBulk(w, payload)
	w.Flush()
	frame := buf.Bytes()
	n := 0
	for _, s := range targets {
		if s.send(frame) {
			n++
		}
	}
	return n
}

// subscriber is a connection in pub/sub mode: its outbox and writer goroutine.
type subscriber struct {
	outbox   chan []byte
	done     chan struct{} // closed when the writer has exited
	mu       sync.Mutex    // guards closed against sends racing the close
	closed   bool
	channels map[string]struct{}
}

// send queues a frame; false once the subscriber has gone.
func (s *subscriber) send(frame []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	select {
	case s.outbox <- frame:
		return true
	case <-s.done:
		return false
	}
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	close(s.outbox)
	s.mu.Unlock()
	<-s.done
}

// writeFrames is the writer goroutine: outbox to socket, batched.
func writeFrames(conn net.Conn, outbox chan []byte, done chan struct{}) {
	defer close(done)
	var batch []byte
	for frame := range outbox {
		batch = append(batch[:0], frame...)
	more:
		for len(batch) < 64<<10 {
			select {
			case f, ok := <-outbox:
				if !ok {
					break more
				}
				batch = append(batch, f...)
			default:
				break more
			}
		}
		if _, err := conn.Write(batch); err != nil {
			for range outbox { // drain so senders never block on a dead writer
			}
			return
		}
	}
}

// outboxWriter lets the session's bufio.Writer feed the outbox.
type outboxWriter struct{ s *subscriber }

func (o outboxWriter) Write(p []byte) (int, error) {
	if !o.s.send(slices.Clone(p)) {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

func (ss *session) subscribe(chans [][]byte) {
	if ss.sub == nil {
		if ss.w.Flush() != nil {
			return
		}
		sub := &subscriber{outbox: make(chan []byte, outboxFrames), done: make(chan struct{}), channels: map[string]struct{}{}}
		go writeFrames(ss.conn, sub.outbox, sub.done)
		ss.sub = sub
		ss.w = bufio.NewWriterSize(outboxWriter{sub}, 16<<10)
	}
	for _, ch := range chans {
		_, had := ss.sub.channels[string(ch)]
		ss.sub.channels[string(ch)] = struct{}{}
		confirm(ss.w, "subscribe", ch, len(ss.sub.channels))
		if ss.w.Flush() != nil {
			return
		}
		if !had {
			ss.s.broker.subscribe(string(ch), ss.sub)
		}
	}
}

func (ss *session) unsubscribe(chans [][]byte) {
	if ss.sub == nil {
		confirm(ss.w, "unsubscribe", nil, 0)
		return
	}
	if len(chans) == 0 {
		var names []string
		for ch := range ss.sub.channels {
			names = append(names, ch)
		}
		sort.Strings(names)
		for _, n := range names {
			chans = append(chans, []byte(n))
		}
	}
	if len(chans) == 0 {
		confirm(ss.w, "unsubscribe", nil, 0)
		return
	}
	for _, ch := range chans {
		if _, ok := ss.sub.channels[string(ch)]; ok {
			delete(ss.sub.channels, string(ch))
			ss.s.broker.unsubscribe(string(ch), ss.sub)
		}
		confirm(ss.w, "unsubscribe", ch, len(ss.sub.channels))
	}
}

func (ss *session) leavePubsub() {
	if ss.sub == nil {
		return
	}
	ss.w.Flush()
	for ch := range ss.sub.channels {
		ss.s.broker.unsubscribe(ch, ss.sub)
	}
	ss.sub.close()
}

func confirm(w *bufio.Writer, kind string, ch []byte, count int) {
	writeArrayLen(w, 3)
	writeBulk(w, []byte(kind))
	if ch == nil {
		writeNil(w)
	} else {
		writeBulk(w, ch)
	}
	writeInt(w, int64(count))
}
