package geo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"image"
	"image/draw"
	"image/jpeg"
)

// Photo is the one picture a crew may attach to a status report: a JPEG
// that the server has decoded and encoded again (CleanPhoto), so that
// nothing the phone put in the file but its pixels is kept — no EXIF (the
// phone's position, model, owner), no XMP, no comments, no thumbnails.
// Crews and above may see it; the public may not (the API's rule).
type Photo struct {
	// ObservationID is the report it belongs to (set by the store); a
	// report has at most one photo.
	ObservationID int64
	// FeatureID is the waterlogging point of that report.
	FeatureID string
	// Data is the JPEG. It is nil where photos are listed (the reports of
	// a point): Store.Photo returns it.
	Data []byte
	// Width and Height are in pixels, as displayed (EXIF orientation
	// applied).
	Width, Height int
	// Bytes is len(Data).
	Bytes int
	// SHA256 is the hash of Data: a strong ETag, and a check.
	SHA256 []byte
}

// Limits of a photo as sent. The map resizes on the phone to at most 1600
// px on the long side (a JPEG of 0.2 to 0.8 MB); the server refuses what is
// larger rather than resizing it, so that its work per photo is bounded.
const (
	// MaxPhotoBytes caps the JPEG a client sends: 2 MiB.
	MaxPhotoBytes = 2 << 20
	// MaxPhotoSide caps its width and height in pixels: decoding takes
	// about 1.5 bytes per pixel, 6 MiB at most.
	MaxPhotoSide = 2048
	// PhotoQuality is the JPEG quality of the re-encoded photo.
	PhotoQuality = 85
)

// Meta returns p without its data, as reports list it.
func (p *Photo) Meta() *Photo {
	if p == nil {
		return nil
	}
	m := *p
	m.Data = nil
	m.SHA256 = append([]byte(nil), p.SHA256...)
	return &m
}

// CleanPhoto checks a photo as a client sent it and returns it cleaned:
// it must be a JPEG (by its bytes, whatever the client said it was) of at
// most MaxPhotoBytes and MaxPhotoSide × MaxPhotoSide pixels that decodes
// completely. It is decoded, turned upright as its EXIF orientation says,
// and encoded again at PhotoQuality: the result holds pixels only, and no
// metadata from the phone survives, whatever it put where. Errors are
// Invalid and name the field "photo".
//
// It costs a JPEG decode and encode (tens of milliseconds for 1600 px):
// stores call it before they take locks or open transactions.
func CleanPhoto(raw []byte) (*Photo, error) {
	bad := func(format string, args ...any) (*Photo, error) { return nil, InvalidField("photo", format, args...) }
	switch {
	case len(raw) == 0:
		return bad("is empty")
	case len(raw) > MaxPhotoBytes:
		return bad("is %d bytes; at most %d (resize it to 1600 px on the long side)", len(raw), MaxPhotoBytes)
	case len(raw) < 3 || raw[0] != 0xff || raw[1] != 0xd8 || raw[2] != 0xff:
		return bad("is not a JPEG: send image/jpeg")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return bad("is not a JPEG that can be read")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxPhotoSide || cfg.Height > MaxPhotoSide {
		return bad("is %d × %d pixels; at most %d on each side (resize it to 1600 px)", cfg.Width, cfg.Height, MaxPhotoSide)
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		return bad("is not a JPEG that can be read completely")
	}
	img = Upright(img, Orientation(raw))
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: PhotoQuality}); err != nil {
		return nil, Wrap(Internal, err, "geo: encode photo")
	}
	sum := sha256.Sum256(out.Bytes())
	b := img.Bounds()
	return &Photo{Data: out.Bytes(), Width: b.Dx(), Height: b.Dy(), Bytes: out.Len(), SHA256: sum[:]}, nil
}

// Orientation returns the EXIF orientation (1 to 8) of a JPEG, from the
// first APP1 "Exif" segment before the image data, or 1 (upright) when
// there is none or it cannot be read.
func Orientation(jpg []byte) int {
	i := 2 // after SOI
	for i+4 <= len(jpg) {
		if jpg[i] != 0xff {
			return 1
		}
		marker := jpg[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(jpg[i+2:]))
		if n < 2 || i+2+n > len(jpg) {
			return 1
		}
		seg := jpg[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF header, or 1.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := bo.Uint32(t[4:])
	if ifd > uint32(len(t)-2) {
		return 1
	}
	count := int(bo.Uint16(t[ifd:]))
	for k := 0; k < count; k++ {
		e := int(ifd) + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if typ := bo.Uint16(t[e+2:]); typ != 3 { // SHORT
			return 1
		}
		if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// Upright returns img turned as EXIF orientation o says (1: as it is; 2 to
// 8: mirrored and/or rotated), so that it displays upright without the
// tag.
func Upright(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // the transposing orientations swap width and height
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored horizontally
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotated 90° clockwise to display
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to display
				dx, dy = y, w-1-x
			}
			si, di := src.PixOffset(x, y), dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
