#include "textflag.h"

// func unescapeBlocks(dst, src []byte) (nsrc, ndst int)
//
// Per 64-byte block X, as 64-bit masks in general registers (bit k for X[k]):
//   B = X == '\\', Q = X == '"', C = X < 0x20, H = X >= 0x80,
//   D = the escaping backslashes: in each run of backslashes, those at an even distance
//       from the run's start (a block never starts at an escaped byte). The add in
//       evenRun = B &^ (B + (B &^ B<<1) & even) carries through, and so clears, the runs
//       that start at an even bit; then D = B &^ (evenRun ^ even), with even = 0x5555...
//   E = D << 1, the escaped characters.
// The escaped characters are replaced by unescapeByte[X & 0x7f] (VPERMI2B over its first
// 128 bytes); a zero there, or X >= 0x80, is an escape this kernel leaves to Go. The block
// stops at the first unescaped quote, control character or such escape's backslash; the
// bytes before it, less the escapers, are packed with VPCOMPRESSB into a register and stored
// whole. The register form: the memory form is microcoded and slow on AMD Zen 4 and 5.
TEXT ·unescapeBlocks(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ SI, R8
	MOVQ DI, R9
	CMPQ dst_len+8(FP), CX
	JLT  ret
	CMPQ CX, $64
	JLT  ret

	VMOVDQU64    ·unescapeByte+0(SB), Z4
	VMOVDQU64    ·unescapeByte+64(SB), Z5
	MOVL         $0x5c, AX
	VPBROADCASTB AX, Z6
	MOVL         $0x22, AX
	VPBROADCASTB AX, Z7
	MOVL         $0x20, AX
	VPBROADCASTB AX, Z8
	MOVQ         $0x5555555555555555, R11

block:
	VMOVDQU8 (SI), Z0
	VPCMPEQB Z6, Z0, K1
	VPCMPEQB Z7, Z0, K2
	VPCMPUB  $1, Z8, Z0, K3 // X < 0x20
	VPMOVB2M Z0, K4
	KMOVQ    K1, AX         // B
	KMOVQ    K2, BX         // Q
	KMOVQ    K3, DX         // C
	KMOVQ    K4, R10        // H

	LEAQ  (AX)(AX*1), R12
	ANDNQ AX, R12, R12      // run starts: B &^ B<<1
	ANDQ  R11, R12          // at even bits
	ADDQ  AX, R12
	ANDNQ AX, R12, R12      // evenRun
	XORQ  R11, R12
	ANDNQ AX, R12, R12      // D
	LEAQ  (R12)(R12*1), R13 // E

	KMOVQ     R13, K5
	VPERMI2B  Z5, Z4, K5, Z0  // Z0 = E ? unescapeByte[X&0x7f] : X
	VPTESTNMB Z0, Z0, K5, K6  // escapes with no one-letter value
	KMOVQ     K6, R14
	ANDQ      R13, R10
	ORQ       R10, R14        // escapes left to Go
	SHRQ      $1, R14         // their backslashes
	ANDNQ     BX, R13, BX     // the closing quote: Q &^ E
	ORQ       BX, DX
	ORQ       R14, DX         // where to stop
	JNZ       stop

	// The whole block but its escapers; a backslash at bit 63 is one, left for the
	// next block.
	MOVQ          R12, AX
	NOTQ          AX
	KMOVQ         AX, K7
	VPCOMPRESSB.Z Z0, K7, Z1
	VMOVDQU8      Z1, (DI)
	POPCNTQ       AX, AX
	ADDQ          AX, DI
	ADDQ          $64, SI
	SUBQ          $64, CX
	TESTQ         R12, R12
	JS            straddle
	CMPQ          CX, $64
	JGE           block
	JMP           end

straddle:
	// Bit 63 is a backslash that escapes the next block's first byte: it was left out
	// above, and the next block starts at it. A branch, not arithmetic on SI: that would
	// make each block's load wait for the mask arithmetic of the one before.
	DECQ SI
	INCQ CX
	CMPQ CX, $64
	JGE  block
	JMP  end

stop:
	// The bytes before the first stop, but the escapers.
	LEAQ          -1(DX), BX
	ANDNQ         BX, DX, BX  // below the stop
	ANDNQ         BX, R12, AX
	KMOVQ         AX, K7
	VPCOMPRESSB.Z Z0, K7, Z1
	VMOVDQU8      Z1, (DI)
	POPCNTQ       AX, AX
	ADDQ          AX, DI
	TZCNTQ        DX, DX
	ADDQ          DX, SI

end:
	VZEROUPPER

ret:
	SUBQ R8, SI
	SUBQ R9, DI
	MOVQ SI, nsrc+48(FP)
	MOVQ DI, ndst+56(FP)
	RET
