/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/siprec.h
 * Umbrella header: includes every public libsiprec header.
 */
#ifndef SIPREC_SIPREC_H
#define SIPREC_SIPREC_H

#include <siprec/version.h>
#include <siprec/common.h>
#include <siprec/shmap.h>
#include <siprec/session.h>
#include <siprec/handler.h>
#include <siprec/metadata.h>
#include <siprec/media.h>
#include <siprec/store.h>

#endif
