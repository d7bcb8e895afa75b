/* vipsdl: libvips opened on first use (dlopen) instead of linked.  Linked,
 * its ~70 libraries were mapped and relocated at every start of every
 * program with images in it (48 ms of CPU), though most runs never decode
 * one.  Include this instead of <vips/vips.h>: each libvips function
 * named below then becomes a call through a pointer that vipsdl_open
 * (from image_init) fills, so call sites, and the calls inside VIPS_*
 * macros, read as usual.  Nothing links -lvips, so a libvips function
 * missing here fails to link: add it to BG_VIPS_FUNCS and as a #define. */
#ifndef BG_VIPSDL_H
#define BG_VIPSDL_H

#include <vips/vips.h>

#define BG_VIPS_FUNCS(X) \
	X(vips_area_unref) X(vips_array_double_new) \
	X(vips_array_double_newv) X(vips_bandbool) X(vips_bandjoin_const1) \
	X(vips_black) X(vips_cache_set_max) X(vips_cast) X(vips_cast_uchar) \
	X(vips_cast_ushort) X(vips_colourspace) X(vips_concurrency_set) \
	X(vips_copy) X(vips_draw_image) X(vips_draw_rect) \
	X(vips_error) X(vips_error_buffer) X(vips_error_clear) \
	X(vips_extract_area) X(vips_extract_band) X(vips_flatten) \
	X(vips_foreign_find_load_buffer) X(vips_format_sizeof_unsafe) \
	X(vips_getpoint) X(vips_gravity) \
	X(vips_icc_transform) X(vips_image_copy_memory) \
	X(vips_image_get_blob) X(vips_image_get_height) \
	X(vips_image_get_typeof) X(vips_image_get_width) \
	X(vips_image_guess_interpretation) X(vips_image_hasalpha) \
	X(vips_image_new) X(vips_image_new_from_buffer) \
	X(vips_image_new_from_file) X(vips_image_remove) \
	X(vips_image_set_blob_copy) X(vips_image_set_int) \
	X(vips_image_wio_input) X(vips_init) X(vips_jpegsave_buffer) \
	X(vips_linear) X(vips_linear1) X(vips_min) \
	X(vips_object_get_type) X(vips_object_local_array) \
	X(vips_pngsave_buffer) X(vips_project) X(vips_relational_const1) \
	X(vips_resize) X(vips_shrink) X(vips_thumbnail_buffer) \
	X(vips_version) X(vips_webpsave_buffer)

/* before the #defines below, which would rename f inside __typeof__ */
#define BG_VIPS_DECLARE(f) extern __typeof__(f) *bgvips_##f;
BG_VIPS_FUNCS(BG_VIPS_DECLARE)
#undef BG_VIPS_DECLARE

#define vips_area_unref (*bgvips_vips_area_unref)
#define vips_array_double_new (*bgvips_vips_array_double_new)
#define vips_array_double_newv (*bgvips_vips_array_double_newv)
#define vips_bandbool (*bgvips_vips_bandbool)
#define vips_bandjoin_const1 (*bgvips_vips_bandjoin_const1)
#define vips_black (*bgvips_vips_black)
#define vips_cache_set_max (*bgvips_vips_cache_set_max)
#define vips_cast (*bgvips_vips_cast)
#define vips_cast_uchar (*bgvips_vips_cast_uchar)
#define vips_cast_ushort (*bgvips_vips_cast_ushort)
#define vips_colourspace (*bgvips_vips_colourspace)
#define vips_concurrency_set (*bgvips_vips_concurrency_set)
#define vips_copy (*bgvips_vips_copy)
#define vips_draw_image (*bgvips_vips_draw_image)
#define vips_draw_rect (*bgvips_vips_draw_rect)
#define vips_error (*bgvips_vips_error)
#define vips_error_buffer (*bgvips_vips_error_buffer)
#define vips_error_clear (*bgvips_vips_error_clear)
#define vips_extract_area (*bgvips_vips_extract_area)
#define vips_extract_band (*bgvips_vips_extract_band)
#define vips_flatten (*bgvips_vips_flatten)
#define vips_foreign_find_load_buffer (*bgvips_vips_foreign_find_load_buffer)
#define vips_format_sizeof_unsafe (*bgvips_vips_format_sizeof_unsafe)
#define vips_getpoint (*bgvips_vips_getpoint)
#define vips_gravity (*bgvips_vips_gravity)
#define vips_icc_transform (*bgvips_vips_icc_transform)
#define vips_image_copy_memory (*bgvips_vips_image_copy_memory)
#define vips_image_get_blob (*bgvips_vips_image_get_blob)
#define vips_image_get_height (*bgvips_vips_image_get_height)
#define vips_image_get_typeof (*bgvips_vips_image_get_typeof)
#define vips_image_get_width (*bgvips_vips_image_get_width)
#define vips_image_guess_interpretation \
	(*bgvips_vips_image_guess_interpretation)
#define vips_image_hasalpha (*bgvips_vips_image_hasalpha)
#define vips_image_new (*bgvips_vips_image_new)
#define vips_image_new_from_buffer (*bgvips_vips_image_new_from_buffer)
#define vips_image_new_from_file (*bgvips_vips_image_new_from_file)
#define vips_image_remove (*bgvips_vips_image_remove)
#define vips_image_set_blob_copy (*bgvips_vips_image_set_blob_copy)
#define vips_image_set_int (*bgvips_vips_image_set_int)
#define vips_image_wio_input (*bgvips_vips_image_wio_input)
#define vips_init (*bgvips_vips_init)
#define vips_jpegsave_buffer (*bgvips_vips_jpegsave_buffer)
#define vips_linear (*bgvips_vips_linear)
#define vips_linear1 (*bgvips_vips_linear1)
#define vips_min (*bgvips_vips_min)
#define vips_object_get_type (*bgvips_vips_object_get_type)
#define vips_object_local_array (*bgvips_vips_object_local_array)
#define vips_pngsave_buffer (*bgvips_vips_pngsave_buffer)
#define vips_project (*bgvips_vips_project)
#define vips_relational_const1 (*bgvips_vips_relational_const1)
#define vips_resize (*bgvips_vips_resize)
#define vips_shrink (*bgvips_vips_shrink)
#define vips_thumbnail_buffer (*bgvips_vips_thumbnail_buffer)
#define vips_version (*bgvips_vips_version)
#define vips_webpsave_buffer (*bgvips_vips_webpsave_buffer)

/* Open libvips and resolve every function above, once; dies (3) with
 * "libvips (SONAME): reason" if it cannot.  image_init calls it. */
void vipsdl_open(void);

#endif
