/* page_assets: CSS and JavaScript of the review and picker pages. */
#ifndef BG_PAGE_ASSETS_H
#define BG_PAGE_ASSETS_H

extern const char rv_css[], rv_js[], pk_css[], pk_js[];

#endif
