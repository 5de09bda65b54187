package geo_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"hazardmap/geo"
	"hazardmap/geo/storetest"
)

// jpegMarkers returns the markers of the segments of a JPEG before its
// image data.
func jpegMarkers(b []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xff; {
		m := b[i+1]
		out = append(out, m)
		if m == 0xda {
			break
		}
		i += 2 + int(b[i+2])<<8 + int(b[i+3])
	}
	return out
}

func TestCleanPhotoStripsMetadataAndTurnsUpright(t *testing.T) {
	const secret = "GPS 34.7983N 113.4046E iPhone 15 Pro 张三"
	// Where the red top-left corner of the stored pixels is seen once the
	// orientation is applied: 0 top-left, 1 top-right, 2 bottom-right, 3
	// bottom-left.
	corner := map[int]int{1: 0, 2: 1, 3: 2, 4: 3, 5: 0, 6: 1, 7: 2, 8: 3}
	for o := 1; o <= 8; o++ {
		raw := storetest.JPEG(64, 48, o, secret)
		if got := geo.Orientation(raw); got != o {
			t.Errorf("Orientation(JPEG with %d) = %d", o, got)
		}
		p, err := geo.CleanPhoto(raw)
		if err != nil {
			t.Fatalf("CleanPhoto(orientation %d) = %v", o, err)
		}
		w, h := 64, 48
		if o >= 5 {
			w, h = 48, 64
		}
		if p.Width != w || p.Height != h || p.Bytes != len(p.Data) || len(p.SHA256) != 32 {
			t.Errorf("orientation %d: %d × %d (%d bytes); want %d × %d", o, p.Width, p.Height, p.Bytes, w, h)
		}
		for _, leak := range []string{"Exif", "GPS", "iPhone", "张三"} {
			if bytes.Contains(p.Data, []byte(leak)) {
				t.Errorf("orientation %d: the clean photo still holds %q", o, leak)
			}
		}
		for _, m := range jpegMarkers(p.Data) {
			if m >= 0xe1 && m <= 0xef || m == 0xfe {
				t.Errorf("orientation %d: the clean photo has a metadata segment %#x", o, m)
			}
		}
		if geo.Orientation(p.Data) != 1 {
			t.Errorf("orientation %d: the clean photo has an orientation", o)
		}
		img, err := jpeg.Decode(bytes.NewReader(p.Data))
		if err != nil {
			t.Fatalf("orientation %d: the clean photo does not decode: %v", o, err)
		}
		corners := []image.Point{{2, 2}, {w - 3, 2}, {w - 3, h - 3}, {2, h - 3}}
		for i, pt := range corners {
			r, g, _, _ := img.At(pt.X, pt.Y).RGBA()
			red := r > 0xc000 && g < 0x6000
			if red != (i == corner[o]) {
				t.Errorf("orientation %d: corner %d red = %v, want the red corner at %d", o, i, red, corner[o])
			}
		}
	}
}

func TestCleanPhotoRefuses(t *testing.T) {
	var pngBytes bytes.Buffer
	_ = png.Encode(&pngBytes, image.NewGray(image.Rect(0, 0, 4, 4)))
	raw := storetest.JPEG(32, 24, 1, "")
	for name, b := range map[string][]byte{
		"empty":     nil,
		"png":       pngBytes.Bytes(),
		"text":      []byte("<svg onload=alert(1)>"),
		"truncated": raw[:len(raw)/2],
		"header":    raw[:20],
		"too wide":  storetest.JPEG(geo.MaxPhotoSide+1, 4, 1, ""),
		"too big":   append(append([]byte(nil), raw...), make([]byte, geo.MaxPhotoBytes)...),
	} {
		_, err := geo.CleanPhoto(b)
		if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || e.Fields[0].Field != "photo" {
			t.Errorf("CleanPhoto(%s) = %v, want Invalid naming photo", name, err)
		}
	}
}

func FuzzCleanPhoto(f *testing.F) {
	raw := storetest.JPEG(16, 12, 6, "secret")
	f.Add(raw)
	f.Add(storetest.JPEG(8, 8, 1, ""))
	f.Add(raw[:len(raw)-40])
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := geo.CleanPhoto(b)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("CleanPhoto = %v, want Invalid", err)
			}
			return
		}
		if p.Width < 1 || p.Height < 1 || p.Width > geo.MaxPhotoSide || p.Height > geo.MaxPhotoSide || p.Bytes != len(p.Data) {
			t.Fatalf("CleanPhoto gave %d × %d, %d bytes", p.Width, p.Height, p.Bytes)
		}
		if _, err := jpeg.Decode(bytes.NewReader(p.Data)); err != nil {
			t.Fatalf("the clean photo does not decode: %v", err)
		}
	})
}

func FuzzOrientation(f *testing.F) {
	f.Add(storetest.JPEG(4, 4, 8, "x"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := geo.Orientation(b); o < 1 || o > 8 {
			t.Fatalf("Orientation = %d", o)
		}
	})
}

// BenchmarkCleanPhoto cleans a photo as the map sends it: 1600 × 1200,
// rotated by EXIF (the slow path) and upright.
func BenchmarkCleanPhoto(b *testing.B) {
	for _, c := range []struct {
		name string
		o    int
	}{{"upright", 1}, {"rotated", 6}} {
		raw := storetest.JPEG(1600, 1200, c.o, "secret")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := geo.CleanPhoto(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
