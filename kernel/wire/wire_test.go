package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	testKey    = "0123456789abcdef"
	testHeader = `{"msg_id":"a1","session":"s1","username":"u","date":"2024-01-02T03:04:05.000006Z","msg_type":"kernel_info_request","version":"5.3"}`
	// testSig is the HMAC-SHA256 of testHeader, {}, {}, {} under testKey,
	// computed with Python's hmac module.
	testSig = "04d8b6f297d5fa9adf0ae7bab06f69c8aca8d5c277e4bd2a0a634436b19fb480"
)

func frames(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

func TestSignMatchesPythonHMAC(t *testing.T) {
	s := NewSigner([]byte(testKey))
	got := s.Sign([]byte(testHeader), []byte("{}"), []byte("{}"), []byte("{}"))
	if got != testSig {
		t.Fatalf("Sign = %s, want %s", got, testSig)
	}
	if !s.Verify([]byte(testSig), []byte(testHeader), []byte("{}"), []byte("{}"), []byte("{}")) {
		t.Fatal("Verify rejected the correct signature")
	}
	if NewSigner(nil).Sign([]byte(testHeader), nil, nil, nil) != "" {
		t.Fatal("an empty key must sign with the empty string")
	}
}

func TestDecodeValid(t *testing.T) {
	s := NewSigner([]byte(testKey))
	m, err := s.Decode(frames("peer-1", Delimiter, testSig, testHeader, "{}", "{}", "{}", "buf0"))
	if err != nil {
		t.Fatal(err)
	}
	want := Header{MsgID: "a1", Session: "s1", Username: "u", Date: "2024-01-02T03:04:05.000006Z", MsgType: "kernel_info_request", Version: "5.3"}
	if m.Header != want {
		t.Fatalf("header = %+v, want %+v", m.Header, want)
	}
	if len(m.Identities) != 1 || string(m.Identities[0]) != "peer-1" {
		t.Fatalf("identities = %q, want [peer-1]", m.Identities)
	}
	if len(m.Buffers) != 1 || string(m.Buffers[0]) != "buf0" {
		t.Fatalf("buffers = %q, want [buf0]", m.Buffers)
	}
	if string(m.RawHeader) != testHeader {
		t.Fatalf("raw header = %s", m.RawHeader)
	}
}

func TestDecodeRejects(t *testing.T) {
	s := NewSigner([]byte(testKey))
	sign := func(h, p, md, c string) string { return s.Sign([]byte(h), []byte(p), []byte(md), []byte(c)) }
	upper := strings.ToUpper(testSig)
	flipped := "14" + testSig[2:]
	cases := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"no delimiter", frames(testSig, testHeader, "{}", "{}", "{}"), ErrNoDelimiter},
		{"too short", frames(Delimiter, testSig, testHeader, "{}"), ErrTooShort},
		{"missing signature", frames(Delimiter, "", testHeader, "{}", "{}", "{}"), ErrSignature},
		{"flipped signature", frames(Delimiter, flipped, testHeader, "{}", "{}", "{}"), ErrSignature},
		// Upper-case hex spells the same MAC bytes.
		{"upper-case hex", frames(Delimiter, upper, testHeader, "{}", "{}", "{}"), nil},
		{"not hex", frames(Delimiter, strings.Repeat("zz", 32), testHeader, "{}", "{}", "{}"), ErrSignature},
		{"content tampered", frames(Delimiter, testSig, testHeader, "{}", "{}", `{"code":"x"}`), ErrSignature},
		{"metadata tampered", frames(Delimiter, testSig, testHeader, "{}", `{"a":1}`, "{}"), ErrSignature},
		{"parent tampered", frames(Delimiter, testSig, testHeader, `{"msg_id":"z"}`, "{}", "{}"), ErrSignature},
		{"frames swapped", frames(Delimiter, testSig, "{}", testHeader, "{}", "{}"), ErrSignature},
		{"signed with another key", frames(Delimiter, NewSigner([]byte("other")).Sign([]byte(testHeader), []byte("{}"), []byte("{}"), []byte("{}")), testHeader, "{}", "{}", "{}"), ErrSignature},
		{"header not JSON", frames(Delimiter, sign("nope", "{}", "{}", "{}"), "nope", "{}", "{}", "{}"), ErrMalformed},
		{"header an array", frames(Delimiter, sign("[]", "{}", "{}", "{}"), "[]", "{}", "{}", "{}"), ErrMalformed},
		{"header without msg_type", frames(Delimiter, sign(`{"msg_id":"1"}`, "{}", "{}", "{}"), `{"msg_id":"1"}`, "{}", "{}", "{}"), ErrMalformed},
		{"msg_type a number", frames(Delimiter, sign(`{"msg_type":7}`, "{}", "{}", "{}"), `{"msg_type":7}`, "{}", "{}", "{}"), ErrMalformed},
		{"content an array", frames(Delimiter, sign(testHeader, "{}", "{}", "[1]"), testHeader, "{}", "{}", "[1]"), ErrMalformed},
		{"parent truncated", frames(Delimiter, sign(testHeader, "{", "{}", "{}"), testHeader, "{", "{}", "{}"), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := s.Decode(c.frames)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode error = %v, want %v", err, c.want)
			}
			if m != nil {
				t.Fatalf("Decode returned a message with error %v", err)
			}
		})
	}
}

func TestEmptyKeyAcceptsUnsigned(t *testing.T) {
	m, err := NewSigner(nil).Decode(frames(Delimiter, "", testHeader, "{}", "{}", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.MsgType != "kernel_info_request" {
		t.Fatalf("msg_type = %q", m.Header.MsgType)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	s := NewSigner([]byte(testKey))
	in := &Message{
		Identities: [][]byte{[]byte("kernel.x.status")},
		Header:     Header{MsgID: "m1", Session: "k", Username: "graft", Date: Now(), MsgType: "status", Version: ProtocolVersion},
		Parent:     json.RawMessage(testHeader),
		Content:    json.RawMessage(`{"execution_state":"busy"}`),
		Buffers:    [][]byte{{0, 1, 2}},
	}
	f, err := s.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(f[1]) != Delimiter || string(f[4]) != testHeader || string(f[5]) != "{}" {
		t.Fatalf("frames = %q", f)
	}
	out, err := s.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if out.Header != in.Header || string(out.Content) != string(in.Content) || !bytes.Equal(out.Buffers[0], []byte{0, 1, 2}) {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
	if string(out.Metadata) != "{}" {
		t.Fatalf("nil metadata encoded as %s, want {}", out.Metadata)
	}
}
