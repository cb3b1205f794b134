try{var m=localStorage.getItem("hp-mode");if(/^(light|dark|high-contrast)$/.test(m))document.documentElement.setAttribute("data-mode",m)}catch(e){}
