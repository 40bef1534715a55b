#!/usr/bin/env python3
# encoding: utf-8
#
# Copyright (c) 2008 Doug Hellmann All rights reserved.
#
"""Creating and waiting for a process
"""
#end_pymotw_header
def worker():
    """worker function"""
    print('Worker')
    return
