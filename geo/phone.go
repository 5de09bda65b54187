package geo

import (
	"errors"
	"strings"
)

// Telephone numbers of duty contacts and depot keepers (Property.Format
// FormatPhone). What crews tap to call in a storm must be a number that
// rings, so the form is checked; the value is kept as typed.
//
// Accepted, with spaces, hyphens and a parenthesized area code allowed
// anywhere between digits, full-width digits and punctuation (as an IME
// types them) read as their ASCII forms:
//
//	mobile     1[3-9] and 9 more digits, optionally after +86, 86 or 0086
//	landline   0, an area code (10, 2x, or three digits starting 3-9) and a
//	           subscriber number of 7 or 8 digits starting 2-9; +86 may
//	           replace the leading 0
//	local      a subscriber number alone (7 or 8 digits starting 2-9),
//	           as the report's own 86572555
//	400/800    a 10-digit service number starting 400 or 800
//
// A landline may end with an extension of 1 to 6 digits after 转, ext,
// x, # or a hyphen (0371-86572555-123).

// PhoneDigits returns the digits of a telephone number s as one of the
// forms above accepts it, without separators: "13800138000",
// "+8613800138000", "037186572555", "86572555", with ";ext=123" appended
// for an extension, ready for a tel: link (RFC 3966 local form). An
// unaccepted s is an error saying why.
func PhoneDigits(s string) (string, error) {
	s = strings.Map(halfWidth, strings.TrimSpace(s))
	if s == "" {
		return "", errors.New("empty telephone number")
	}
	main, ext := s, ""
	lower := strings.Map(asciiLower, s) // same byte offsets as s
	for _, sep := range []string{"转", "ext.", "ext", "x", "#"} {
		if i := strings.LastIndex(lower, sep); i > 0 {
			main, ext = s[:i], strings.TrimSpace(s[i+len(sep):])
			if ext == "" {
				return "", errors.New("an extension is 1 to 6 digits")
			}
			break
		}
	}
	plus := strings.HasPrefix(main, "+")
	if plus {
		main = main[1:]
	}
	var digits []byte
	for i := 0; i < len(main); i++ {
		switch c := main[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return "", errors.New("a telephone number holds only digits, spaces, hyphens, parentheses, a leading + and an extension after 转 or ext")
		}
	}
	d := string(digits)
	// A trailing "-123" after a complete landline is an extension.
	if ext == "" && !plus {
		if i := strings.LastIndex(main, "-"); i > 0 {
			head := strings.Map(digitsOnly, main[:i])
			tail := strings.Map(digitsOnly, main[i+1:])
			if len(tail) >= 1 && len(tail) <= 6 && landline(head) {
				d, ext = head, tail
			}
		}
	}
	if ext != "" {
		if len(ext) > 6 || strings.Trim(ext, "0123456789") != "" {
			return "", errors.New("an extension is 1 to 6 digits")
		}
	}
	country := plus || strings.HasPrefix(d, "0086") || (len(d) == 13 && strings.HasPrefix(d, "86"))
	switch {
	case strings.HasPrefix(d, "0086"):
		d = d[4:]
	case country && strings.HasPrefix(d, "86"):
		d = d[2:]
	}
	var out string
	switch {
	case mobile(d):
		if ext != "" {
			return "", errors.New("a mobile number has no extension")
		}
		out = d
		if country {
			out = "+86" + d
		}
	case country && landline("0"+d):
		out = "+86" + d
	case !country && landline(d):
		out = d
	case !country && subscriber(d):
		out = d
	case !country && ext == "" && len(d) == 10 && (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800")):
		out = d
	case strings.HasPrefix(d, "1") && len(d) != 11:
		return "", errors.New("a mobile number has 11 digits (1[3-9]…)")
	default:
		return "", errors.New("not a Chinese mobile (11 digits, 1[3-9]…) or landline number (0 + area code + 7 or 8 digits, or 7 or 8 digits alone); a spreadsheet may have dropped a leading 0")
	}
	if ext != "" {
		out += ";ext=" + ext
	}
	return out, nil
}

// ValidatePhone reports whether s is a telephone number PhoneDigits
// accepts.
func ValidatePhone(s string) error {
	_, err := PhoneDigits(s)
	return err
}

// mobile reports whether d is an 11-digit mainland mobile number.
func mobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' && allDigits(d)
}

// landline reports whether d is 0, an area code and a subscriber number.
func landline(d string) bool {
	if len(d) < 10 || d[0] != '0' || !allDigits(d) {
		return false
	}
	area := 3 // 0 + three digits, e.g. 0371
	if d[1] == '1' && d[2] == '0' || d[1] == '2' {
		area = 2 // 010, 02x
	} else if d[1] < '3' {
		return false
	}
	return subscriber(d[1+area:])
}

// subscriber reports whether d is a local number of 7 or 8 digits that
// does not start with 0 or 1.
func subscriber(d string) bool {
	return (len(d) == 7 || len(d) == 8) && d[0] >= '2' && d[0] <= '9' && allDigits(d)
}

func asciiLower(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

func allDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

func digitsOnly(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

// halfWidth maps full-width digits and the punctuation an IME types in a
// number (＋－（）and the ideographic space) to ASCII.
func halfWidth(r rune) rune {
	switch {
	case r >= '０' && r <= '９':
		return r - '０' + '0'
	case r == '＋':
		return '+'
	case r == '－' || r == '—' || r == '–':
		return '-'
	case r == '（':
		return '('
	case r == '）':
		return ')'
	case r == '\u3000':
		return ' '
	case r == '＃':
		return '#'
	}
	return r
}
