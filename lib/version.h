#ifndef BG_VERSION
#define BG_VERSION "0.1.0"
#endif
