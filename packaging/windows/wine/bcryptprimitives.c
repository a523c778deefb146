/*
 * bcryptprimitives.dll for Wine 8.0 (Debian 12), which lacks it. Go 1.22 and
 * later draw the runtime's randomness from ProcessPrng in this Windows 10
 * DLL and stop at start without it ("fatal error: bcryptprimitives.dll not
 * found"). check-windows.sh builds this into the test prefix only; it is
 * never shipped: every Windows that Go supports has the real one.
 * ProcessPrng here is RtlGenRandom (advapi32's SystemFunction036), which
 * Wine implements with the system's random source.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
