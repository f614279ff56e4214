// Package wire is the Jupyter messaging wire format (protocol 5.3): a message
// travels as ZeroMQ frames — routing identities, the delimiter "<IDS|MSG>", an
// HMAC-SHA256 signature in hex, then the header, parent header, metadata and
// content as JSON objects, then optional binary buffers. The signature covers
// the four JSON frames in that order; an empty key means messages are not
// signed. Decode verifies the signature with a constant-time compare before it
// parses anything, and never panics on malformed input.
package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"
)

// ProtocolVersion is the version of the messaging protocol graft speaks.
const ProtocolVersion = "5.3"

// Delimiter separates the routing identities from the message proper.
const Delimiter = "<IDS|MSG>"

// Scheme is the only signature scheme graft supports.
const Scheme = "hmac-sha256"

// Header is a message header (also the parent header of a reply).
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message. The JSON parts are kept raw: handlers decode
// Content into the struct their message type needs, and a reply carries its
// request's header frame unchanged as its parent header.
type Message struct {
	// Identities are the ZeroMQ routing frames before the delimiter (for a
	// ROUTER socket the peer's identity; for PUB the topic).
	Identities [][]byte
	// Header is the decoded header.
	Header Header
	// RawHeader is the header frame exactly as received (set by Decode);
	// replies use it as their parent header.
	RawHeader json.RawMessage
	// Parent is the parent header, a JSON object; nil encodes as {}.
	Parent json.RawMessage
	// Metadata is a JSON object; nil encodes as {}.
	Metadata json.RawMessage
	// Content is a JSON object; nil encodes as {}.
	Content json.RawMessage
	// Buffers are the binary frames after the content.
	Buffers [][]byte
}

// Errors Decode returns; each is wrapped with detail.
var (
	// ErrNoDelimiter: the frames contain no "<IDS|MSG>" delimiter.
	ErrNoDelimiter = errors.New("no <IDS|MSG> delimiter")
	// ErrTooShort: fewer than the five frames (signature, header, parent,
	// metadata, content) follow the delimiter.
	ErrTooShort = errors.New("too few frames after the delimiter")
	// ErrSignature: the signature is missing or does not match.
	ErrSignature = errors.New("bad or missing signature")
	// ErrMalformed: a JSON part is not a JSON object of the right shape.
	ErrMalformed = errors.New("malformed message")
)

// Signer signs and verifies messages with one key. It is safe for concurrent
// use. A Signer with an empty key signs with "" and accepts any signature.
type Signer struct {
	key  []byte
	pool sync.Pool // of hash.Hash
}

// NewSigner returns a signer for key (the "key" of the connection file).
func NewSigner(key []byte) *Signer {
	s := &Signer{key: append([]byte(nil), key...)}
	s.pool.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

// Signs reports whether the signer has a key, that is whether messages are
// signed and verified at all.
func (s *Signer) Signs() bool { return len(s.key) > 0 }

// mac returns the raw HMAC of the parts, appended to dst.
func (s *Signer) mac(dst []byte, parts ...[]byte) []byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	dst = h.Sum(dst)
	s.pool.Put(h)
	return dst
}

// Sign returns the hex signature of the header, parent header, metadata and
// content frames, or "" when the key is empty.
func (s *Signer) Sign(header, parent, metadata, content []byte) string {
	if !s.Signs() {
		return ""
	}
	var buf [sha256.Size]byte
	return hex.EncodeToString(s.mac(buf[:0], header, parent, metadata, content))
}

// Verify reports whether sig (hex, as on the wire) is the signature of the
// four parts. The comparison takes constant time. With an empty key every
// signature is accepted.
func (s *Signer) Verify(sig, header, parent, metadata, content []byte) bool {
	if !s.Signs() {
		return true
	}
	var got [sha256.Size]byte
	if len(sig) != hex.EncodedLen(len(got)) {
		return false
	}
	if _, err := hex.Decode(got[:], sig); err != nil {
		return false
	}
	var want [sha256.Size]byte
	return hmac.Equal(got[:], s.mac(want[:0], header, parent, metadata, content))
}

// Decode parses and verifies the frames of one message as a socket received
// them. The signature is checked before any JSON is parsed. It returns an
// error wrapping ErrNoDelimiter, ErrTooShort, ErrSignature or ErrMalformed
// for a message that must be dropped.
func (s *Signer) Decode(frames [][]byte) (*Message, error) {
	delim := -1
	for i, f := range frames {
		if string(f) == Delimiter {
			delim = i
			break
		}
	}
	if delim < 0 {
		return nil, fmt.Errorf("%w among %d frames", ErrNoDelimiter, len(frames))
	}
	rest := frames[delim+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%w: %d, need 5", ErrTooShort, len(rest))
	}
	sig, header, parent, metadata, content := rest[0], rest[1], rest[2], rest[3], rest[4]
	if !s.Verify(sig, header, parent, metadata, content) {
		if len(sig) == 0 {
			return nil, fmt.Errorf("%w: the message is not signed", ErrSignature)
		}
		return nil, fmt.Errorf("%w: %q does not match", ErrSignature, clip(sig))
	}
	m := &Message{
		RawHeader: json.RawMessage(header),
		Parent:    json.RawMessage(parent),
		Metadata:  json.RawMessage(metadata),
		Content:   json.RawMessage(content),
	}
	if err := decodeHeader(header, &m.Header); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		name string
		data []byte
	}{{"parent header", parent}, {"metadata", metadata}, {"content", content}} {
		if !isObject(part.data) {
			return nil, fmt.Errorf("%w: %s %q is not a JSON object", ErrMalformed, part.name, clip(part.data))
		}
	}
	if delim > 0 {
		m.Identities = frames[:delim]
	}
	if len(rest) > 5 {
		m.Buffers = rest[5:]
	}
	return m, nil
}

// decodeHeader parses a header frame, which must be a JSON object with a
// non-empty msg_type and string fields.
func decodeHeader(data []byte, h *Header) error {
	if !isObject(data) {
		return fmt.Errorf("%w: header %q is not a JSON object", ErrMalformed, clip(data))
	}
	// The date is a string on the wire, but tolerate any JSON value there:
	// only its presence matters to graft.
	var raw struct {
		Header
		Date json.RawMessage `json:"date"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: header %q: %v", ErrMalformed, clip(data), err)
	}
	*h = raw.Header
	if len(raw.Date) > 0 {
		var d string
		if json.Unmarshal(raw.Date, &d) == nil {
			h.Date = d
		}
	}
	if h.MsgType == "" {
		return fmt.Errorf("%w: header %q has no msg_type", ErrMalformed, clip(data))
	}
	return nil
}

// isObject reports whether data is one valid JSON object.
func isObject(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(data)
}

// clip shortens data for an error message.
func clip(data []byte) string {
	const max = 80
	if len(data) > max {
		return string(data[:max]) + "…"
	}
	return string(data)
}

var emptyObject = json.RawMessage("{}")

// Encode returns the frames of m, signed: identities, delimiter, signature,
// header, parent header, metadata, content, buffers. Nil JSON parts are sent
// as {}.
func (s *Signer) Encode(m *Message) ([][]byte, error) {
	header, err := json.Marshal(&m.Header)
	if err != nil {
		return nil, fmt.Errorf("encoding %s header: %w", m.Header.MsgType, err)
	}
	parent, metadata, content := orEmpty(m.Parent), orEmpty(m.Metadata), orEmpty(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames,
		[]byte(Delimiter),
		[]byte(s.Sign(header, parent, metadata, content)),
		header, parent, metadata, content)
	return append(frames, m.Buffers...), nil
}

func orEmpty(r json.RawMessage) []byte {
	if len(r) == 0 {
		return emptyObject
	}
	return r
}

// DateFormat is how graft writes header dates: ISO 8601 in UTC with
// microseconds, as jupyter_client does.
const DateFormat = "2006-01-02T15:04:05.000000Z"

// Now returns the current time formatted for a header's date.
func Now() string { return time.Now().UTC().Format(DateFormat) }
