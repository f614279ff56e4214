package wire

import (
	"bytes"
	"errors"
	"testing"
)

// splitFrames turns one fuzz input into frames: NUL bytes separate frames
// (the seed corpus in testdata/fuzz/FuzzDecode is written that way).
func splitFrames(data []byte) [][]byte {
	return bytes.Split(data, []byte{0})
}

// FuzzDecode feeds arbitrary frames to the decoder, both as they come (with
// and without a key) and re-signed so that the JSON checks behind the
// signature are reached too. Decode must never panic, must reject a message
// whose signature is wrong, and whatever it accepts must survive an
// encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("id\x00<IDS|MSG>\x00\x00" + testHeader + "\x00{}\x00{}\x00{}"))
	keyed := NewSigner([]byte(testKey))
	open := NewSigner(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := splitFrames(data)
		// Unsigned decoding reaches every JSON check directly.
		m, err := open.Decode(fr)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned a message together with %v", err)
			}
			classify(t, err)
		} else {
			roundTrip(t, open, m)
		}
		// With a key, the raw input is accepted only if it carries the right
		// signature, which random data does not.
		if m2, err := keyed.Decode(fr); err == nil {
			if !keyed.Verify(signatureOf(fr), m2.RawHeader, m2.Parent, m2.Metadata, m2.Content) {
				t.Fatal("keyed Decode accepted a message whose signature does not verify")
			}
		}
		// Re-sign the input's JSON frames: the keyed decoder must then agree
		// with the unsigned one, and a one-bit change to the signature must
		// be rejected.
		signed, ok := resign(keyed, fr)
		if !ok {
			return
		}
		_, err3 := keyed.Decode(signed)
		if (err == nil) != (err3 == nil) {
			t.Fatalf("signed decode error %v, unsigned decode error %v", err3, err)
		}
		sigIdx := delimiterIndex(signed) + 1
		signed[sigIdx] = append([]byte(nil), signed[sigIdx]...)
		signed[sigIdx][0] ^= 1
		if _, err := keyed.Decode(signed); !errors.Is(err, ErrSignature) {
			t.Fatalf("corrupted signature: error %v, want ErrSignature", err)
		}
	})
}

// classify fails the test when err is not one of the documented errors.
func classify(t *testing.T, err error) {
	for _, known := range []error{ErrNoDelimiter, ErrTooShort, ErrSignature, ErrMalformed} {
		if errors.Is(err, known) {
			return
		}
	}
	t.Fatalf("Decode returned an undocumented error: %v", err)
}

func roundTrip(t *testing.T, s *Signer, m *Message) {
	enc, err := s.Encode(m)
	if err != nil {
		// A header with strings that are not valid UTF-8 still encodes (the
		// encoder replaces bad bytes), so any error is a bug.
		t.Fatalf("Encode of a decoded message: %v", err)
	}
	back, err := s.Decode(enc)
	if err != nil {
		t.Fatalf("decode of re-encoded message: %v", err)
	}
	if !bytes.Equal(back.Content, orEmpty(m.Content)) || !bytes.Equal(back.Parent, orEmpty(m.Parent)) {
		t.Fatalf("round trip changed the message: %+v → %+v", m, back)
	}
	if back.Header.MsgType == "" || len(back.Identities) != len(m.Identities) || len(back.Buffers) != len(m.Buffers) {
		t.Fatalf("round trip changed the message: %+v → %+v", m, back)
	}
}

func delimiterIndex(fr [][]byte) int {
	for i, f := range fr {
		if string(f) == Delimiter {
			return i
		}
	}
	return -1
}

func signatureOf(fr [][]byte) []byte {
	return fr[delimiterIndex(fr)+1]
}

// resign returns a copy of fr with a correct signature, when fr has a
// delimiter and enough frames after it.
func resign(s *Signer, fr [][]byte) ([][]byte, bool) {
	d := delimiterIndex(fr)
	if d < 0 || len(fr)-d-1 < 5 {
		return nil, false
	}
	out := append([][]byte(nil), fr...)
	out[d+1] = []byte(s.Sign(out[d+2], out[d+3], out[d+4], out[d+5]))
	return out, true
}
