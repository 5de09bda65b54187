package main

import (
	"fmt"
	"io"
	"strings"

	qr "github.com/piglig/go-qr"
)

// qrQuietZone is the light border around a QR code, in modules, that
// ISO/IEC 18004 asks for so that a scanner finds the code.
const qrQuietZone = 4

// writeQR draws text as a QR code for a terminal: two rows of modules per
// line of half-block characters, dark on light with explicit ANSI colours
// (black on white), so that it scans on a dark terminal as on a light one.
// Error correction is Medium: a phone scans a screen, not a torn label.
func writeQR(w io.Writer, text string) error {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	n := code.Size()
	dark := func(x, y int) bool {
		x, y = x-qrQuietZone, y-qrQuietZone
		return x >= 0 && y >= 0 && x < n && y < n && code.Module(x, y)
	}
	side := n + 2*qrQuietZone
	var b strings.Builder
	for y := 0; y < side; y += 2 {
		b.WriteString("\x1b[30;47m")
		for x := 0; x < side; x++ {
			switch top, bottom := dark(x, y), dark(x, y+1); {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\x1b[0m\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}
