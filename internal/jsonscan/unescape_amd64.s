#include "textflag.h"

// The kernels' shared parts. ENTER loads the arguments of func(dst, src []byte) (nsrc, ndst
// int): DI = dst, SI = src, CX = len(src), R8 and R9 the starts; it jumps to ret unless dst
// is as long as src and a block of 64 bytes remains.
#define ENTER(ret) \
	MOVQ dst_base+0(FP), DI \
	MOVQ src_base+24(FP), SI \
	MOVQ src_len+32(FP), CX \
	MOVQ SI, R8 \
	MOVQ DI, R9 \
	CMPQ dst_len+8(FP), CX \
	JLT  ret \
	CMPQ CX, $64 \
	JLT  ret

// ESCAPERS sets R12 to D, the escaping backslashes among the backslashes B in AX, with R11 =
// even (see below): the run starts B &^ B<<1 at even bits, added to B, give evenRun.
#define ESCAPERS \
	LEAQ  (AX)(AX*1), R12 \
	ANDNQ AX, R12, R12 \
	ANDQ  R11, R12 \
	ADDQ  AX, R12 \
	ANDNQ AX, R12, R12 \
	XORQ  R11, R12 \
	ANDNQ AX, R12, R12

// LEAVE returns the bytes of src consumed and of dst written.
#define LEAVE \
	SUBQ R8, SI \
	SUBQ R9, DI \
	MOVQ SI, nsrc+48(FP) \
	MOVQ DI, ndst+56(FP) \
	RET

// func unescapeBlocksAVX512(dst, src []byte) (nsrc, ndst int)
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
TEXT ·unescapeBlocksAVX512(SB), NOSPLIT, $0-64
	ENTER(ret)

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

	ESCAPERS                // D
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
	LEAVE

// Constants of unescapeBlocksAVX2: bytes to broadcast ('\\', '"', 0x1f, 0x0f), the bit of
// each byte of a qword (1, 2, 4, ..., 0x80), and the VPSHUFB masks that spread bytes 0-3 and
// 4-7 of a broadcast qword mask over 32 bytes, eight bytes each.
DATA avx2const<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA avx2const<>+8(SB)/8, $0x2222222222222222
DATA avx2const<>+16(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA avx2const<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA avx2const<>+32(SB)/8, $0x8040201008040201
DATA avx2const<>+40(SB)/8, $0x0000000000000000
DATA avx2const<>+48(SB)/8, $0x0101010101010101
DATA avx2const<>+56(SB)/8, $0x0202020202020202
DATA avx2const<>+64(SB)/8, $0x0303030303030303
DATA avx2const<>+72(SB)/8, $0x0404040404040404
DATA avx2const<>+80(SB)/8, $0x0505050505050505
DATA avx2const<>+88(SB)/8, $0x0606060606060606
DATA avx2const<>+96(SB)/8, $0x0707070707070707
GLOBL avx2const<>(SB), RODATA|NOPTR, $104

// COMPACT16 stores the bytes of the 16-byte register X whose bits are set in the low 16 bits
// of AX at DI, packed, advancing DI past them and AX by 16 bits: each 8-byte half through a
// VPSHUFB mask from unescapeCompress (base in R10), stored as a whole qword. Clobbers BX,
// R14, X2.
#define COMPACT16(X) \
	MOVBQZX AX, BX \
	MOVL    AX, R14 \
	SHRL    $8, R14 \
	MOVBQZX R14, R14 \
	VMOVQ   (R10)(BX*8), X2 \
	VPINSRQ $1, 2048(R10)(R14*8), X2, X2 \
	VPSHUFB X2, X, X2 \
	VMOVQ   X2, (DI) \
	POPCNTL BX, BX \
	ADDQ    BX, DI \
	VPEXTRQ $1, X2, (DI) \
	POPCNTL R14, R14 \
	ADDQ    R14, DI \
	SHRQ    $16, AX

// COMPACT64 stores the bytes of the block in Y0:Y1 whose bits are set in AX at DI, packed,
// and advances DI past them. Clobbers AX, BX, R10, R14, X0-X2.
#define COMPACT64 \
	LEAQ         ·unescapeCompress(SB), R10 \
	COMPACT16(X0) \
	VEXTRACTI128 $1, Y0, X0 \
	COMPACT16(X0) \
	COMPACT16(X1) \
	VEXTRACTI128 $1, Y1, X1 \
	COMPACT16(X1)

// MASK64 sets R to the 64-bit mask of the bytes set in Y2 (the block's first half) and Y3
// (its second half). Clobbers R10.
#define MASK64(R) \
	VPMOVMSKB Y2, R \
	VPMOVMSKB Y3, R10 \
	SHLQ      $32, R10 \
	ORQ       R10, R

// LOOKUP blends the one-letter escape values into the half X of the block where the byte
// mask M is set, and sets R to the 32-bit mask of X's bytes that are one-letter escape
// characters: h = unescapeHash(X), key and value by VPSHUFB. Clobbers Y2, Y3.
#define LOOKUP(X, M, R) \
	VPSRLW    $2, X, Y2 \
	VPSRLW    $4, X, Y3 \
	VPADDB    Y3, Y2, Y2 \
	VPAND     Y12, Y2, Y2 \
	VPSHUFB   Y2, Y11, Y3 \
	VPSHUFB   Y2, Y10, Y2 \
	VPCMPEQB  X, Y3, Y3 \
	VPMOVMSKB Y3, R \
	VPBLENDVB M, Y2, X, X

// func unescapeBlocksAVX2(dst, src []byte) (nsrc, ndst int)
//
// The masks B, Q, C, D and E of unescapeBlocksAVX512, each half of the block by VPMOVMSKB
// (C as min(X, 0x1f) == X: AVX2 compares bytes signed only). The escaped characters: with
// h = unescapeHash(X) (two word shifts, an add, a mask), a one-letter escape is X ==
// unescapeHashKey[h] and stands for unescapeHashVal[h] (VPSHUFB each); the values are
// blended in where E's bits, spread to bytes, are set. An escape whose character fails the
// key test (\u, invalid ones, X >= 0x80) is left to Go, as are the closing quote and control
// characters. The bytes kept (all but the escapers, and those before the first stop) are
// packed eight at a time by COMPACT64. A block with no backslash is stored as it is.
TEXT ·unescapeBlocksAVX2(SB), NOSPLIT, $0-64
	ENTER(ret2)

	VPBROADCASTQ   avx2const<>+0(SB), Y15  // '\\'
	VPBROADCASTQ   avx2const<>+8(SB), Y14  // '"'
	VPBROADCASTQ   avx2const<>+16(SB), Y13 // 0x1f
	VPBROADCASTQ   avx2const<>+24(SB), Y12 // 0x0f
	VBROADCASTI128 ·unescapeHashKey(SB), Y11
	VBROADCASTI128 ·unescapeHashVal(SB), Y10
	VMOVDQU        avx2const<>+40(SB), Y9  // spread bytes 0-3
	VMOVDQU        avx2const<>+72(SB), Y8  // spread bytes 4-7
	VPBROADCASTQ   avx2const<>+32(SB), Y7  // bit of each byte
	MOVQ           $0x5555555555555555, R11

block2:
	VMOVDQU  (SI), Y0
	VMOVDQU  32(SI), Y1
	VPCMPEQB Y15, Y0, Y2
	VPCMPEQB Y15, Y1, Y3
	MASK64(AX)          // B
	VPCMPEQB Y14, Y0, Y2
	VPCMPEQB Y14, Y1, Y3
	MASK64(BX)          // Q
	VPMINUB  Y13, Y0, Y2
	VPMINUB  Y13, Y1, Y3
	VPCMPEQB Y2, Y0, Y2
	VPCMPEQB Y3, Y1, Y3
	MASK64(DX)          // C

	ESCAPERS                // D
	TESTQ R12, R12
	JZ    plain2
	LEAQ  (R12)(R12*1), R13 // E

	// E spread to bytes: Y4 for the first half, Y5 for the second.
	VMOVQ        R13, X6
	VPBROADCASTQ X6, Y6
	VPSHUFB      Y9, Y6, Y4
	VPSHUFB      Y8, Y6, Y5
	VPAND        Y7, Y4, Y4
	VPAND        Y7, Y5, Y5
	VPCMPEQB     Y7, Y4, Y4
	VPCMPEQB     Y7, Y5, Y5

	// The escaped characters looked up and blended in; V (one-letter escape characters).
	LOOKUP(Y0, Y4, R10)
	LOOKUP(Y1, Y5, R14)
	SHLQ $32, R14
	ORQ  R14, R10       // V

	ANDNQ R13, R10, R14 // escapes left to Go: E &^ V
	SHRQ  $1, R14       // their backslashes
	ANDNQ BX, R13, BX   // the closing quote: Q &^ E
	ORQ   BX, DX
	ORQ   R14, DX       // where to stop
	JNZ   stop2

	// The whole block but its escapers; a backslash at bit 63 is one, left for the next
	// block.
	MOVQ R12, AX
	NOTQ AX
	COMPACT64

next2:
	// The next block; R12 is D (0 from plain2).
	ADDQ  $64, SI
	SUBQ  $64, CX
	TESTQ R12, R12
	JS    straddle2
	CMPQ  CX, $64
	JGE   block2
	JMP   end2

plain2:
	// No backslash: the block as it is, up to a quote or control character.
	ORQ     BX, DX
	JNZ     stop2
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ    $64, DI
	JMP     next2

straddle2:
	// As in unescapeBlocksAVX512: the next block starts at the backslash of bit 63.
	DECQ SI
	INCQ CX
	CMPQ CX, $64
	JGE  block2
	JMP  end2

stop2:
	// The bytes before the first stop, but the escapers (R12 is 0 from plain2).
	LEAQ   -1(DX), BX
	ANDNQ  BX, DX, BX   // below the stop
	ANDNQ  BX, R12, AX
	TZCNTQ DX, R13
	COMPACT64
	ADDQ   R13, SI

end2:
	VZEROUPPER

ret2:
	LEAVE
