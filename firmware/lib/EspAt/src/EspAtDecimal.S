// EspAtDecimal.h's writer and division on the AVR (ESPAT_SMALL_DECIMAL 1), in assembly: as C they came to 88 B
// for the writer alone, with libgcc's 68-byte 32-bit division under it.
#if defined(__AVR__) && ESPAT_SMALL_DECIMAL

// uint32_t espat_divide(uint32_t n [r22-r25], uint16_t d [r20-r21]): the quotient in r22-r25, the remainder in
// r26-r27 and SREG's T set when the quotient is not 0 (both read by espat_decimal; C sees the quotient only). Long
// division, one bit of n at a time; d below 32,768 keeps the running remainder within 16 bits. Uses r26, r27, r30;
// leaves r20-r21 as they were.
    .section .text.espat_divide,"ax",@progbits
    .global espat_divide
    .type espat_divide, @function
espat_divide:
    clr r26
    clr r27
    clt
    ldi r30, 32
1:  lsl r22
    rol r23
    rol r24
    rol r25
    rol r26
    rol r27
    cp r26, r20
    cpc r27, r21
    brlo 2f
    sub r26, r20
    sbc r27, r21
    ori r22, 1
    set
2:  dec r30
    brne 1b
    ret
    .size espat_divide, . - espat_divide

// void espat_decimal(Print& out [r24-r25], uint32_t n [r20-r23], uint8_t tenths [r18]): the digits from the lowest,
// pushed on the stack (ten at most), then popped and written one by one through out's write(uint8_t) (its
// virtual table's first entry), the point before the last when tenths is 1 (then at least two digits).
    .section .text.espat_decimal,"ax",@progbits
    .global espat_decimal
    .type espat_decimal, @function
espat_decimal:
    push r16
    push r17
    push r28
    push r29
    movw r28, r24           ; out
    mov r16, r18            ; the digits after the point
    clr r17                 ; the digits pushed
    movw r24, r22
    movw r22, r20           ; n, where espat_divide takes it
    ldi r20, 10
    clr r21
1:  rcall espat_divide
    subi r26, -'0'
    push r26
    inc r17
    cp r16, r17             ; one digit before the point at least
    brsh 1b
    brts 1b                 ; while n is not 0
2:  cpse r17, r16           ; as many left as go after the point: the point first
    rjmp 3f
    ldi r22, '.'
    rcall 4f
3:  pop r22
    rcall 4f
    dec r17
    brne 2b
    pop r29
    pop r28
    pop r17
    pop r16
    ret
4:  movw r24, r28           ; out.write(r22), returning to the caller of 4
    ld r30, Y
    ldd r31, Y+1
    ld r0, Z+
    ld r31, Z
    mov r30, r0
    ijmp
    .size espat_decimal, . - espat_decimal
#endif
