package format

import "time"

// validStamp reports whether s has the exact form the encoder writes.
func validStamp(s []byte) bool {
	_, ok := scanUTC(s)
	return ok
}

// scanUTC splits the exact form the encoder writes,
// 2006-01-02T15:04:05[.fraction]Z, into year, month, day, hour, minute,
// second and nanosecond, without the cost of time.Parse.
func scanUTC(s []byte) (v [7]int, ok bool) {
	n := len(s)
	if n < 20 || n > 30 {
		return v, false
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n-1] != 'Z' {
		return v, false
	}
	d0, d1, d2, d3 := s[0]-'0', s[1]-'0', s[2]-'0', s[3]-'0'
	mo0, mo1, dd0, dd1 := s[5]-'0', s[6]-'0', s[8]-'0', s[9]-'0'
	h0, h1, mi0, mi1, s0, s1 := s[11]-'0', s[12]-'0', s[14]-'0', s[15]-'0', s[17]-'0', s[18]-'0'
	if d0 > 9 || d1 > 9 || d2 > 9 || d3 > 9 || mo0 > 9 || mo1 > 9 || dd0 > 9 || dd1 > 9 ||
		h0 > 9 || h1 > 9 || mi0 > 9 || mi1 > 9 || s0 > 9 || s1 > 9 { // a non-digit wraps past 9
		return v, false
	}
	v[0] = int(d0)*1000 + int(d1)*100 + int(d2)*10 + int(d3)
	v[1] = int(mo0)*10 + int(mo1)
	v[2] = int(dd0)*10 + int(dd1)
	v[3] = int(h0)*10 + int(h1)
	v[4] = int(mi0)*10 + int(mi1)
	v[5] = int(s0)*10 + int(s1)
	ns := 0
	if n > 20 {
		if s[19] != '.' || n == 21 {
			return v, false
		}
		digits := 0
		for _, c := range s[20 : n-1] {
			if c-'0' > 9 {
				return v, false
			}
			ns = ns*10 + int(c-'0')
			digits++
		}
		for ; digits < 9; digits++ {
			ns *= 10
		}
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return v, false
	}
	if v[2] > 28 && v[2] > daysIn(v[1], v[0]) {
		return v, false
	}
	v[6] = ns
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendStamp appends t in UTC as the encoder writes it.
func appendStamp(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}
