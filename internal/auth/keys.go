package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
)

// GossipKeySize is the length in bytes of a gossip key (AES-256).
const GossipKeySize = 32

// NewGossipKey returns a new random gossip key, base64-encoded (what `tokenmill keygen`
// prints and --gossip-key-file holds).
func NewGossipKey() string {
	key := make([]byte, GossipKeySize)
	rand.Read(key) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(key)
}

// ReadGossipKey reads a gossip key file: the base64 encoding of 32 bytes, surrounding white
// space ignored.
func ReadGossipKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gossip key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("gossip key %s: not base64 (make one with 'tokenmill keygen'): %w", path, err)
	}
	if len(key) != GossipKeySize {
		return nil, fmt.Errorf("gossip key %s: %d bytes, want %d (make one with 'tokenmill keygen')", path, len(key), GossipKeySize)
	}
	return key, nil
}

// ReadToken reads a token file: its content without surrounding white space, which must
// not be empty.
func ReadToken(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("token file " + path + " is empty")
	}
	return b, nil
}
