//! FFT engine (work in progress: see issue "FFT engine").
