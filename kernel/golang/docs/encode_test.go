package docs

import (
	"reflect"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	pkgs := []Package{
		{Path: "a/b", Name: "b", Synopsis: "Package b.", Members: []Member{{Name: "F", Kind: KindFunc, Signature: "func F()"}}},
		{Path: "c", Name: "c", Members: []Member{{Name: "M", Recv: "T", Kind: KindMethod, Signature: "func (T) M()", Doc: "M does.\n"}}},
	}
	data, err := Encode("go1.0", pkgs)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := decodeIndex(data)
	if err != nil {
		t.Fatal(err)
	}
	if idx.GoVersion != "go1.0" || len(idx.Entries) != 2 {
		t.Fatalf("decoded header %+v", idx.header)
	}
	for i, e := range idx.Entries {
		p, err := decodePackage(idx.blobs, e)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*p, pkgs[i]) {
			t.Errorf("package %d decoded as %+v, want %+v", i, *p, pkgs[i])
		}
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 9, 1}, {0, 0, 0, 1, 0}} {
		if _, err := decodeIndex(bad); err == nil {
			t.Errorf("decodeIndex(%v) succeeded, want an error", bad)
		}
	}
}

// TestEmbeddedSize keeps the index small enough to embed in the kernel.
func TestEmbeddedSize(t *testing.T) {
	const limit = 3 << 20
	if len(embedded) > limit || len(embedded) < 100<<10 {
		t.Errorf("index.bin is %d bytes, want between 100 KiB and %d", len(embedded), limit)
	}
}
