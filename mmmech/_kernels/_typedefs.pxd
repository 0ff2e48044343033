# Shared C types of the mmmech kernels.
ctypedef double float64_t
ctypedef int int32_t
ctypedef signed char int8_t
ctypedef unsigned char uint8_t
