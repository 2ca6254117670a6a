// Package wire converts between the data plane's types (package shard) and the messages of
// proto/tokenmill/v1 that the coordinator and the worker exchange. Both sides import it; it
// imports neither of them.
//
// Its functions are pure and safe for concurrent use.
package wire
