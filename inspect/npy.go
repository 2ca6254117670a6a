package inspect

import (
	"github.com/tokenmill/tokenmill/formats/npy"
)

// npyFlatSample is how many elements of a 1-D array (a flat token stream) its sample shows.
const npyFlatSample = 2048

// inspectNpy reads a .npy header and, when detail is set, its first row. A 2-D array has one
// example per row; a 1-D array is shown as one example of its first npyFlatSample elements.
func (in *inspector) inspectNpy(path string, detail bool, manifest string) (*Inspection, error) {
	r, err := npy.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h := r.Header()
	res := &Inspection{Path: path, Kind: "npy", Shape: h.Shape, DType: r.DType().String(), Examples: r.Rows(), Detailed: detail}
	if len(h.Shape) == 1 {
		res.Notes = append(res.Notes, "a 1-D array: the sample is its first elements")
	}
	if !detail || h.Elements() == 0 {
		return res, nil
	}
	var row []int64
	if len(h.Shape) <= 1 {
		row, err = r.Elements(0, min(h.Elements(), npyFlatSample), nil)
	} else {
		row, err = r.Row(0, nil)
	}
	if err != nil {
		return nil, err
	}
	res.First = row
	in.decodeFirst(res, manifest)
	return res, nil
}
