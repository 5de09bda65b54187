package storetest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
)

// JPEG returns a w × h JPEG as a phone might send it: an APP1 Exif
// segment with the EXIF orientation o (1 to 8) and secret (standing for
// the phone's GPS position, model and owner) in an ImageDescription tag,
// a comment segment holding secret too, and secret again after the end of
// the image. The pixels are a gradient with a red top-left corner, so that
// a test can tell which way up the image is.
func JPEG(w, h, o int, secret string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(40 + 150*x/w), uint8(40 + 150*y/h), 90, 255}
			if x < w/4 && y < h/4 {
				c = color.RGBA{250, 10, 10, 255}
			}
			img.Set(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	plain := enc.Bytes()

	// TIFF, little-endian: IFD0 with Orientation (SHORT) and
	// ImageDescription (ASCII, at an offset after the IFD).
	desc := append([]byte(secret), 0)
	tiff := []byte("II*\x00")
	tiff = binary.LittleEndian.AppendUint32(tiff, 8)
	tiff = binary.LittleEndian.AppendUint16(tiff, 2)
	entry := func(tag, typ uint16, count, value uint32) {
		tiff = binary.LittleEndian.AppendUint16(tiff, tag)
		tiff = binary.LittleEndian.AppendUint16(tiff, typ)
		tiff = binary.LittleEndian.AppendUint32(tiff, count)
		tiff = binary.LittleEndian.AppendUint32(tiff, value)
	}
	entry(0x010e, 2, uint32(len(desc)), 8+2+2*12+4)  // ImageDescription, after the IFD
	entry(0x0112, 3, 1, uint32(o))                   // Orientation
	tiff = binary.LittleEndian.AppendUint32(tiff, 0) // no next IFD
	tiff = append(tiff, desc...)
	app1 := append([]byte("Exif\x00\x00"), tiff...)

	var out bytes.Buffer
	out.Write(plain[:2]) // SOI
	segment := func(marker byte, payload []byte) {
		out.Write([]byte{0xff, marker})
		_ = binary.Write(&out, binary.BigEndian, uint16(len(payload)+2))
		out.Write(payload)
	}
	segment(0xe1, app1)
	segment(0xfe, []byte(secret))
	out.Write(plain[2:])
	out.WriteString(secret) // trailing bytes after EOI
	return out.Bytes()
}
