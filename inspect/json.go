package inspect

import (
	"encoding/json"
	"io"
	"math"
)

// WriteJSON writes res as one JSON object on one line (the fields of the package
// documentation), values never truncated and HTML characters not escaped. Float values JSON
// cannot hold (NaN, ±Inf) in First are written as their Python spelling, strings "nan",
// "inf" and "-inf".
func WriteJSON(w io.Writer, res *Inspection) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonSafe(res))
}

// jsonSafe returns a copy of res whose First (and its parts') holds no NaN or ±Inf.
func jsonSafe(res *Inspection) *Inspection {
	c := *res
	c.First = jsonSafeValue(res.First)
	c.Parts = nil
	for _, p := range res.Parts {
		c.Parts = append(c.Parts, jsonSafe(p))
	}
	return &c
}

// jsonSafeValue replaces the floats of v that JSON cannot hold by their Python spelling,
// copying the maps and slices that hold them.
func jsonSafeValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return pyFloat(x)
		}
	case float32:
		return jsonSafeValue(float64(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonSafeValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonSafeValue(e)
		}
		return out
	}
	return v
}
